"""What an operator relies on from the etcd layer, then the failure drills.

pytest runs the tests in file order: the checks of the converged cluster first, then the
drills, each of which leaves all three members healthy for the next one.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from etcd_drills import (
    MEMBERS,
    REPO,
    ansible_env,
    etcdctl_json,
    hashkv,
    healthy_members,
    keys_on,
    leader_loss_drill,
    local_keys,
    local_status,
    playbook,
    playbook_cmd,
    restart_window,
    sh,
    start_writer,
    wait_healthy,
    writer_rows,
)
from jovial_fixtures import dropped_packets, outsider, port_scan, wait_for

ALL = sorted(MEMBERS)


# -- The converged cluster ------------------------------------------------------------------


def test_root_runs_etcdctl_with_no_flags_and_sees_every_member_healthy():
    for name in ALL:
        members = sh(name, "etcdctl member list")
        assert members.returncode == 0, members.stderr
        assert sorted(line.split(", ")[2] for line in members.stdout.splitlines()) == ALL
        health = sh(name, "etcdctl endpoint health --cluster")
        assert health.returncode == 0, health.stderr
        # etcdctl 3.4 prints the health lines on stderr.
        assert (health.stdout + health.stderr).count("is healthy") == 3, health


def test_members_talk_tls_to_each_other():
    data = json.loads(sh("me-etcd1", "etcdctl -w json member list").stdout)
    for member in data["members"]:
        assert all(u.startswith("https://") for u in member["peerURLs"]), member
        assert all(u.startswith("https://") for u in member["clientURLs"]), member


# etcdctl 3.4 refuses a flag that an ETCDCTL_* variable also sets: these checks pass every
# setting as a flag, without root's environment.
BARE = "env -u ETCDCTL_ENDPOINTS -u ETCDCTL_CACERT -u ETCDCTL_CERT -u ETCDCTL_KEY etcdctl"
MEMBER_CERT = "--cert=/etc/etcd/pki/etcd-member.crt --key=/etc/etcd/pki/etcd-member.key"


def test_plaintext_clients_are_refused():
    for name, address in MEMBERS.items():
        out = sh(
            "me-etcd1",
            f"{BARE} --endpoints=http://{address}:2379 --dial-timeout=2s --command-timeout=3s "
            "put plaintext yes",
        )
        assert out.returncode != 0, f"{name} accepted a plaintext write"
        assert "shadowed" not in out.stderr, out.stderr
    # The metrics listener is plain HTTP but serves no key-value API.
    api = sh(
        "me-etcd2",
        "curl -s -o /dev/null -w '%{http_code}' -X POST "
        '-d \'{"key":"Zm9v"}\' http://127.0.0.1:2381/v3/kv/range',
    )
    assert api.stdout != "200", api.stdout


def test_metrics_and_health_answer_on_loopback_only():
    # What a local scraper or an operator on the member reads...
    metrics = sh("me-etcd2", "curl -sf --max-time 3 http://127.0.0.1:2381/metrics")
    assert "etcd_server_has_leader 1" in metrics.stdout
    health = sh("me-etcd2", "curl -sf --max-time 3 http://127.0.0.1:2381/health")
    assert '"health":"true"' in health.stdout, health.stdout
    # ...and nothing listens on the member's network address (connection refused, not just
    # filtered: the listener itself is on 127.0.0.1), so another node gets nothing.
    listening = sh("me-etcd2", "ss -Hltn 'sport = :2381'").stdout.split()
    assert "127.0.0.1:2381" in listening, listening
    assert not [a for a in listening if a.endswith(":2381") and not a.startswith("127.")]
    remote = sh("me-etcd1", "curl -s --max-time 3 http://10.78.2.12:2381/metrics")
    assert remote.returncode != 0 and "etcd_server" not in remote.stdout, remote


# The host firewall (roles/firewall, from firewall_services): a TCP scan of every port of
# every member from three places. The expected ports are the declaration read by hand: SSH
# only from the admin networks (none here) and the control node; etcd's client port from the
# members and the API servers (none here); its peer port from the members; nothing else.
OUTSIDER_IP = "10.78.2.99"  # on the scenario network, in no group, not the control node
ALL_ADDRESSES = [MEMBERS[name] for name in ALL]


def test_firewall_an_outsider_reaches_no_port_of_any_member():
    found = port_scan(outsider("jovial-mol-etcd", OUTSIDER_IP), ALL_ADDRESSES)
    assert found == {address: [] for address in ALL_ADDRESSES}
    # Dropped, not refused: the members counted the outsider's probes as drops.
    chain = sh("me-etcd2", "nft list chain inet jovial input").stdout
    assert dropped_packets(chain) > 60000, chain


def test_firewall_a_member_reaches_only_the_etcd_ports_of_its_peers():
    found = port_scan(["podman", "exec", "-i", "me-etcd1", "python3", "-"], ALL_ADDRESSES)
    for name in ("me-etcd2", "me-etcd3"):
        assert found[MEMBERS[name]] == [2379, 2380], (name, found)


def test_firewall_the_control_node_reaches_ssh_only():
    found = port_scan([sys.executable, "-"], ALL_ADDRESSES)
    assert found == {address: [22] for address in ALL_ADDRESSES}


def test_clients_without_a_site_ca_certificate_are_refused():
    base = f"{BARE} --endpoints=https://10.78.2.12:2379 --cacert=/etc/etcd/pki/ca.crt"
    anonymous = sh("me-etcd1", f"{base} --dial-timeout=2s --command-timeout=3s get anything")
    assert anonymous.returncode != 0
    assert "shadowed" not in anonymous.stderr, anonymous.stderr
    # A certificate from another CA is refused too.
    rogue = sh(
        "me-etcd1",
        "cd /tmp && openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.crt "
        "-days 1 -subj /CN=rogue 2>/dev/null && "
        f"{base} --cert=/tmp/rogue.crt --key=/tmp/rogue.key --dial-timeout=2s "
        "--command-timeout=3s get anything",
    )
    assert rogue.returncode != 0
    assert "shadowed" not in rogue.stderr, rogue.stderr
    # Guard: the same request with the member's site-CA certificate works.
    allowed = sh("me-etcd1", f"{base} {MEMBER_CERT} get anything")
    assert allowed.returncode == 0, allowed.stderr


def test_kube_apiserver_client_certificate_works_and_is_client_only():
    pki = "/etc/etcd/pki/kube-apiserver"
    out = sh(
        "me-etcd2",
        f"{BARE} --endpoints=https://10.78.2.11:2379,https://10.78.2.13:2379 "
        f"--cacert={pki}/ca.crt --cert={pki}/apiserver-etcd-client.crt "
        f"--key={pki}/apiserver-etcd-client.key put apiserver-check ok",
    )
    assert out.returncode == 0, out.stderr
    usage = sh(
        "me-etcd2", f"openssl x509 -in {pki}/apiserver-etcd-client.crt -noout -ext extendedKeyUsage"
    )
    assert "TLS Web Client Authentication" in usage.stdout
    assert "Server" not in usage.stdout
    # Kept on the control node for the Kubernetes layer.
    pki_dir = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "pki" / "issued" / "me-etcd1"
    assert (pki_dir / "apiserver-etcd-client.crt").is_file()


def test_tuning_reaches_the_running_members():
    for name in ALL:
        # etcd logs the configuration it runs with when it starts (zap JSON).
        pid = sh(name, "systemctl show -p MainPID --value etcd").stdout.strip()
        line = sh(
            name,
            f"journalctl _PID={pid} -o cat --no-pager | grep -m1 '\"starting an etcd server\"'",
        ).stdout
        config = json.loads(line)
        assert config["heartbeat-interval"] == "100ms"
        assert config["election-timeout"] == "1s"
        assert config["quota-backend-bytes"] == 2147483648
        assert config["auto-compaction-mode"] == "periodic"
        assert config["pre-vote"] is True
        assert config["listen-metrics-urls"] == ["http://127.0.0.1:2381"]
        owner = sh(name, "stat -c '%U %a' /var/lib/etcd/data").stdout.strip()
        assert owner == "etcd 700"


def test_scheduled_snapshot_is_verified_and_rotated():
    node = "me-etcd2"
    assert sh(node, "systemctl is-enabled jovial-etcd-backup.timer").stdout.strip() == "enabled"
    assert sh(node, "systemctl is-active jovial-etcd-backup.timer").stdout.strip() == "active"
    for _ in range(4):  # etcd_backup_keep is 3 in this scenario
        run = sh(node, "systemctl start jovial-etcd-backup.service && sleep 1")
        assert run.returncode == 0, run.stderr
    files = sh(node, "ls -1 /var/backups/etcd/").stdout.split()
    assert len(files) == 3, files
    status = sh(node, f"etcdctl -w json snapshot status /var/backups/etcd/{sorted(files)[-1]}")
    assert status.returncode == 0 and json.loads(status.stdout)["totalKey"] > 0


def test_backup_playbook_fetches_a_verified_snapshot():
    out = playbook("etcd-backup.yml")
    assert out.returncode == 0, out.stdout[-3000:]
    fetched = sorted(
        (Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "etcd-backups").glob("*.db")
    )
    assert fetched, out.stdout[-2000:]
    assert fetched[-1].stat().st_size > 0


def test_verify_playbook_reports_the_cluster_healthy():
    out = playbook("verify.yml")
    assert out.returncode == 0, out.stdout[-3000:]
    assert "identical hashkv" in out.stdout


# -- Drills (each leaves the cluster healthy) -----------------------------------------------


def test_drill_a_leader_killed_while_writing_fails_over_and_loses_no_acknowledged_write():
    result = leader_loss_drill("drill/a")
    print(
        f"\nleader {result['old_leader']} killed; {result['new_leader']} seen leading after "
        f"{result['new_leader_seen_after_s']} s; {len(result['acked_while_down'])} writes "
        f"acknowledged while it was down; {len(result['acked'])} of {result['attempts']} "
        f"writes acknowledged; longest gap between acknowledged writes: "
        f"{result['longest_gap_s']} s (target: under 3 s, measured by tests/bench/bench_etcd.py)"
    )
    assert result["acked"], "no write was acknowledged"
    # Failover: the survivors elected one of themselves while the old leader's process was
    # gone (systemd's restart cancelled; the drill started it again later)...
    assert result["old_leader_down"], result
    assert result["new_leader"] in result["survivors"], result
    # ...and acknowledged writes on their own.
    assert result["acked_while_down"], result
    # The old leader rejoins as a follower of the leader the others follow.
    assert wait_healthy(result["writer"], ALL) == ALL
    views = {name: local_status(name) for name in ALL}
    old = views[result["old_leader"]]
    assert old and old["leader"] != old["member_id"], views
    assert len({v["leader"] for v in views.values() if v}) == 1, views
    for name in ALL:  # including the old leader
        acked = set(result["acked"])
        missing = acked - keys_on(name, "drill/a", expected=acked)
        assert not missing, f"{name} lost acknowledged writes {sorted(missing)}"


def test_drill_b_two_members_down_stops_writes_and_one_back_resumes_them():
    survivor, first_back, second_back = "me-etcd1", "me-etcd2", "me-etcd3"
    assert sh(survivor, "etcdctl put drill/b/before 1").returncode == 0
    for name in (first_back, second_back):
        assert sh(name, "systemctl stop etcd").returncode == 0
    refused = sh(survivor, "etcdctl --command-timeout=3s put drill/b/during 1")
    assert refused.returncode != 0, "a write succeeded without quorum"
    assert sh(first_back, "systemctl start etcd").returncode == 0
    resumed = sh(survivor, "etcdctl --command-timeout=5s put drill/b/after 1")
    assert resumed.returncode == 0, resumed.stderr
    assert sh(second_back, "systemctl start etcd").returncode == 0
    assert wait_healthy(survivor, ALL) == ALL
    assert sh(survivor, "etcdctl put drill/b/sync 1").returncode == 0
    # Nothing diverged: every member holds the same keys and the same hash of its store.
    wait_for(lambda: len({tuple(local_keys(n, "drill/b")) for n in ALL}) == 1, timeout=30)
    held = {name: local_keys(name, "drill/b") for name in ALL}
    assert len({tuple(keys) for keys in held.values()}) == 1, held
    assert {"drill/b/before", "drill/b/after", "drill/b/sync"} <= set(held[survivor])
    hashes = hashkv(survivor)
    assert len(set(hashes.values())) == 1, hashes


def test_drill_c_recovery_refuses_when_it_would_lose_quorum():
    target, other = "me-etcd3", "me-etcd2"
    assert sh(other, "systemctl stop etcd").returncode == 0
    assert sh(target, "systemctl stop etcd && rm -rf /var/lib/etcd/data").returncode == 0
    out = playbook("recover-etcd-member.yml", "-l", target)
    assert out.returncode != 0
    assert "Refusing to recover me-etcd3: it would lose quorum" in out.stdout + out.stderr, (
        out.stdout[-3000:] + out.stderr[-2000:]
    )
    # Nothing was changed: the member list still has three voting members.
    assert sh(other, "systemctl start etcd").returncode == 0
    members = json.loads(sh("me-etcd1", "etcdctl -w json member list").stdout)["members"]
    assert sorted(m["name"] for m in members) == ALL
    assert not any(m.get("isLearner") for m in members)


def test_drill_c_a_wiped_member_started_again_does_not_bootstrap_a_second_cluster():
    target = "me-etcd3"  # its data was wiped by the test above
    cluster = local_status("me-etcd1")
    assert cluster, "me-etcd1 does not answer"
    members = sorted(m["ID"] for m in etcdctl_json("me-etcd1", "member list")["members"])
    # What a reboot does: systemd starts the member on its empty data directory.
    assert sh(target, "systemctl start --no-block etcd").returncode == 0
    seen = []
    for _ in range(8):
        time.sleep(1)
        seen.append(local_status(target))
    print(f"\nwiped {target} started by systemd; its own endpoint said: {seen}")
    # With ETCD_INITIAL_CLUSTER_STATE=existing, etcd 3.4 either takes its old member ID back
    # and catches up, or panics ("tocommit(N) is out of range") and systemd retries; either
    # way it is the existing cluster or nothing.
    # It never answered as the member of another cluster, or as a leader of its own...
    assert all(s is None or s["cluster_id"] == cluster["cluster_id"] for s in seen), seen
    assert all(s is None or s["leader"] != s["member_id"] for s in seen), seen
    # ...and the cluster neither lost nor gained a member.
    after = sorted(m["ID"] for m in etcdctl_json("me-etcd1", "member list")["members"])
    assert after == members, (members, after)
    assert local_status("me-etcd1")["cluster_id"] == cluster["cluster_id"]
    # Wiped again for the recovery playbook below.
    assert sh(target, "systemctl stop etcd && rm -rf /var/lib/etcd/data").returncode == 0


def test_drill_c_wiped_member_rejoins_the_cluster_with_the_recovery_playbook():
    target = "me-etcd3"  # wiped above
    assert sh(target, "test -e /var/lib/etcd/data/member").returncode != 0
    cluster_id = local_status("me-etcd1")["cluster_id"]
    assert sh("me-etcd1", "etcdctl put drill/c/before-recovery 1").returncode == 0
    out = playbook("recover-etcd-member.yml", "-l", target)
    assert out.returncode == 0, out.stdout[-4000:]
    assert healthy_members("me-etcd1") == ALL
    members = etcdctl_json("me-etcd1", "member list")["members"]
    assert sorted(m["name"] for m in members) == ALL
    assert not any(m.get("isLearner") for m in members)
    # It rejoined the existing cluster (its own endpoint reports the same cluster ID and
    # follows the others' leader) rather than bootstrapping a new one...
    own = local_status(target)
    assert own and own["cluster_id"] == cluster_id, (own, cluster_id)
    assert own["member_id"] in {m["ID"] for m in members}, (own, members)
    assert own["leader"] == local_status("me-etcd1")["leader"], own
    # ...and caught up: a key written before the recovery is in its own store.
    hashes = hashkv("me-etcd1")
    assert len(hashes) == 3 and len(set(hashes.values())) == 1, hashes
    assert "drill/c/before-recovery" in local_keys(target, "drill/c")


def test_recovery_refuses_to_wipe_a_healthy_member():
    out = playbook("recover-etcd-member.yml", "-l", "me-etcd2")
    assert out.returncode != 0
    assert "me-etcd2 is a healthy member" in out.stdout, out.stdout[-3000:]
    assert healthy_members("me-etcd1") == ALL


# The Kubernetes API servers' client: their certificate, every member's endpoint.
APISERVER_PKI = "/etc/etcd/pki/kube-apiserver"
APISERVER_ETCDCTL = (
    f"{BARE} --endpoints={','.join(f'https://{MEMBERS[n]}:2379' for n in ALL)} "
    f"--cacert={APISERVER_PKI}/ca.crt --cert={APISERVER_PKI}/apiserver-etcd-client.crt "
    f"--key={APISERVER_PKI}/apiserver-etcd-client.key"
)


def test_a_configuration_change_rolls_one_member_at_a_time_and_keeps_quorum():
    before = {n: sh(n, "systemctl show -p MainPID --value etcd").stdout.strip() for n in ALL}
    # A client writes all through the roll, as kube-apiserver would.
    writer_node, stop = "me-etcd2", "/tmp/drill-roll.stop"
    sh(writer_node, f"rm -f {stop}")
    writer = start_writer(
        writer_node, "drill/roll", 900, etcdctl=APISERVER_ETCDCTL, timeout="2s", stop=stop
    )
    time.sleep(2)
    roll_started = time.time()
    run = subprocess.run(
        [*playbook_cmd("etcd.yml"), "-e", "etcd_snapshot_count=10001"],
        capture_output=True,
        text=True,
        env=ansible_env(),
        cwd=REPO,
        check=False,
        timeout=900,
    )
    roll_ended = time.time()
    time.sleep(2)
    sh(writer_node, f"touch {stop}")
    rows = writer_rows(writer, 60)
    assert run.returncode == 0, run.stdout[-3000:]
    after = {n: sh(n, "systemctl show -p MainPID --value etcd").stdout.strip() for n in ALL}
    assert all(before[n] != after[n] for n in ALL), (before, after)
    # When each member was not serving: from systemd starting to stop it until it was ready
    # again (Type=notify).
    windows = sorted((*restart_window(n), n) for n in ALL)
    acked = [t for _i, t, result in rows if result == "ok"]
    failed = [(i, result) for i, _t, result in rows if result != "ok"]
    while_down = {n: sum(1 for t in acked if start < t < end) for start, end, n in windows}
    print(
        f"\nrolling restart: {len(acked)} of {len(rows)} writes acknowledged, "
        f"while each member was down: {while_down}; "
        f"windows: {[(n, round(end - start, 2)) for start, end, n in windows]}"
    )
    # Quorum held: not one write refused or timed out during the roll, writes went on
    # throughout, and the two others acknowledged writes while each member was down...
    assert not failed, failed
    assert sum(1 for t in acked if roll_started < t < roll_ended) >= 20, rows
    assert all(while_down.values()), while_down
    # ...which was one member at a time, each during the playbook run.
    assert all(roll_started < start < end < roll_ended for start, end, _n in windows), windows
    assert all(a[1] < b[0] for a, b in itertools.pairwise(windows)), windows
    assert healthy_members("me-etcd1") == ALL


# -- Revocation: the site CA's CRL on the client and peer listeners -------------------------
# An operator whose member's keys leaked revokes its certificates with
# playbooks/site-ca-certs.yml: the playbook puts them on the CRL, re-issues them (new keys),
# installs the CRL on every member and restarts the members one at a time. From then on every
# member refuses the old certificates, on its client and on its peer port, and the certificates
# not revoked (the new ones, another member's) work as before.
CERTS = "site-ca-certs.yml"
MEMBER_PKI = "/etc/etcd/pki"


def _pair(directory: str, name: str) -> tuple[str, str]:
    return (f"{directory}/{name}.crt", f"{directory}/{name}.key")


def _client_get(node: str, cert: str, key: str, address: str) -> subprocess.CompletedProcess:
    return sh(
        node,
        f"{BARE} --endpoints=https://{address}:2379 --cacert={MEMBER_PKI}/ca.crt "
        f"--cert={cert} --key={key} --dial-timeout=2s --command-timeout=3s get crl-check",
    )


def _peer_http_code(node: str, cert: str, key: str, address: str) -> str:
    """HTTP status of the peer port's /version for that certificate; 000: no HTTP at all.

    HTTP/1.1: the peer listener serves no HTTP/2. It also checks that the certificate's SANs
    name the caller's address, so only a member's own certificate, from that member, gets in.
    """
    out = sh(
        node,
        f"curl -s --http1.1 -o /dev/null -w '%{{http_code}}' --max-time 5 "
        f"--cacert {MEMBER_PKI}/ca.crt --cert {cert} --key {key} https://{address}:2380/version",
    )
    return out.stdout.strip()


def _recap(stdout: str) -> dict[str, int]:
    """changed= of every host in the PLAY RECAP."""
    rows = re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", stdout, re.M)
    return {host: int(changed) for host, changed in rows}


def _serial(node: str, cert: str) -> str:
    return sh(node, f"openssl x509 -noout -serial -in {cert}").stdout.strip()


def test_revoked_certificates_are_refused_by_every_member_on_client_and_peer_ports():
    holder, peers = "me-etcd1", ("me-etcd2", "me-etcd3")
    member, client = _pair(MEMBER_PKI, "etcd-member"), _pair(APISERVER_PKI, "apiserver-etcd-client")
    # me-etcd1's member and kube-apiserver client certificates, kept aside as a stolen copy.
    old_member, old_client = _pair("/root", "revoked-member"), _pair("/root", "revoked-client")
    for (crt, key), (old_crt, old_key) in ((member, old_member), (client, old_client)):
        copy = sh(holder, f"cp {crt} {old_crt} && cp {key} {old_key}")
        assert copy.returncode == 0, copy.stderr
    serials = {c: _serial(holder, c[0]) for c in (old_member, old_client)}
    for name in ALL:
        before = _client_get(holder, *old_client, MEMBERS[name])
        assert before.returncode == 0, (name, before.stderr)
    for name in peers:
        assert _peer_http_code(holder, *old_member, MEMBERS[name]) != "000", name
    pids = {n: sh(n, "systemctl show -p MainPID --value etcd").stdout.strip() for n in ALL}

    started = time.time()
    out = playbook(CERTS, "-e", "revoke=me-etcd1", "-e", "revoke_reason=key_compromise")
    ended = time.time()
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    for name, directory in (("etcd-member", MEMBER_PKI), ("apiserver-etcd-client", APISERVER_PKI)):
        assert f"me-etcd1: {name} in {directory} RE-ISSUED" in out.stdout, out.stdout[-4000:]

    # Every member refuses the revoked certificates, from clients and from peers...
    for name in ALL:
        for old in (old_client, old_member):
            after = _client_get(holder, *old, MEMBERS[name])
            assert after.returncode != 0, f"{name} accepted revoked {serials[old]} from a client"
            assert "shadowed" not in after.stderr, after.stderr
    for name in peers:
        code = _peer_http_code(holder, *old_member, MEMBERS[name])
        assert code == "000", f"{name} answered a peer with revoked {serials[old_member]}"
        log = sh(name, "journalctl -u etcd --no-pager -o cat | grep -c 'revoked'").stdout
        assert int(log.strip() or 0) > 0, f"{name} logged no refusal of a revoked certificate"
    # ...and accepts the re-issued ones and another member's, never revoked.
    assert _serial(holder, member[0]) != serials[old_member]
    assert _serial(holder, client[0]) != serials[old_client]
    for name in peers:
        assert _peer_http_code(holder, *member, MEMBERS[name]) != "000", name
    for node in (holder, "me-etcd2"):
        for name in ALL:
            ok = _client_get(node, *client, MEMBERS[name])
            assert ok.returncode == 0, (node, name, ok.stderr)

    # The new CRL restarted the members one at a time, during the run; all healthy after.
    after_pids = {n: sh(n, "systemctl show -p MainPID --value etcd").stdout.strip() for n in ALL}
    assert all(pids[n] != after_pids[n] for n in ALL), (pids, after_pids)
    windows = sorted((*restart_window(n), n) for n in ALL)
    assert all(started < start < end < ended for start, end, _n in windows), windows
    assert all(a[1] < b[0] for a, b in itertools.pairwise(windows)), windows
    assert healthy_members("me-etcd1") == ALL

    # A second run changes nothing anywhere.
    again = playbook(CERTS)
    assert again.returncode == 0, again.stdout[-3000:]
    recap = _recap(again.stdout)
    assert recap and set(recap.values()) == {0}, recap
