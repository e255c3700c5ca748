"""What an operator relies on from the storage layer, then the failover drills.

pytest runs the tests in file order: the converged pairs first, then the drills; each drill
leaves every target on its preferred node for the next one.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

from jovial_fixtures import dropped_packets, outsider, port_scan
from lustre_drills import (
    ADDRESSES,
    CLIENT_MOUNT,
    CLIENTS,
    MOUNT_ROOT,
    NODES,
    PAIRS,
    SERVICE_ADDRESSES,
    SERVICES,
    TARGETS,
    Writer,
    capacity,
    cluster,
    failover_move,
    kill_and_wait,
    longest_gap,
    module,
    mounted_on,
    online_nodes,
    resources,
    running,
    sh,
    started_on,
    wait_capacity,
    wait_member,
)

HOME = f"{CLIENT_MOUNT}/home/ada"

# -- The converged pairs -------------------------------------------------------------------


def test_each_pair_is_one_two_node_cluster_with_fencing_on():
    for a, b in PAIRS.values():
        assert online_nodes(a) == {a, b}
        for node in (a, b):
            quorum = sh(node, "corosync-quorumtool -s")
            assert "Quorate:          Yes" in quorum.stdout, quorum.stdout
            # e.g. "Flags:            2Node Quorate WaitForAll"
            flags = next(
                (
                    line.split(":", 1)[1].split()
                    for line in quorum.stdout.splitlines()
                    if line.startswith("Flags:")
                ),
                [],
            )
            assert {"2Node", "WaitForAll"} <= set(flags), quorum.stdout
        stonith = sh(a, "crm_attribute --type crm_config --name stonith-enabled --query --quiet")
        assert stonith.stdout.strip() == "true"


def test_each_node_has_a_fence_device_that_never_runs_on_it():
    for a, b in PAIRS.values():
        where = started_on(a)
        assert where.get(f"fence-{a}") == [b], where
        assert where.get(f"fence-{b}") == [a], where
        agent = sh(a, f"crm_resource --resource fence-{a} --get-parameter plug")
        assert agent.stdout.strip() == a


def test_the_fence_agent_speaks_the_fence_agent_protocol():
    meta = sh("ms-mds1", "fence_jovial_podman -o metadata")
    assert '<resource-agent name="fence_jovial_podman"' in meta.stdout
    # status of the partner through the host's podman API: 0 = running.
    status = sh("ms-mds1", "printf 'action=status\\nplug=ms-mds2\\n' | fence_jovial_podman")
    assert status.returncode == 0, status.stderr
    missing = sh("ms-mds1", "fence_jovial_podman -o status -n no-such-node")
    assert missing.returncode == 1 and "no container named" in missing.stderr


def test_every_target_is_mounted_exactly_once_on_its_preferred_node():
    for target, (primary, _failover) in TARGETS.items():
        assert mounted_on(target) == [primary], target
        assert started_on(primary).get(target) == [primary], target


def test_oss_pair_is_active_active():
    assert mounted_on("jovial-ost0") == ["ms-oss1"]
    assert mounted_on("jovial-ost1") == ["ms-oss2"]


def test_a_device_holding_a_target_is_never_formatted_again():
    # The same target again: left alone.
    same = module(
        "ms-mds1",
        "lustre_target",
        "device=/dev/jovial/mdt0 fsname=jovial kind=mdt index=0 backend=lab_ext4",
    )
    assert same.returncode == 0, same.stdout + same.stderr
    assert '"changed": false' in same.stdout, same.stdout
    # Another target on that device: refused, and the device still holds the MDT.
    other = module(
        "ms-mds1",
        "lustre_target",
        "device=/dev/jovial/mdt0 fsname=jovial kind=ost index=9 backend=lab_ext4",
    )
    assert other.returncode != 0, other.stdout
    assert "jovial-MDT0000" in other.stdout, other.stdout
    label = sh("ms-mds1", "blkid -p -o value -s LABEL /dev/jovial/mdt0")
    assert label.stdout.strip() == "jovial-MDT0000"


def test_firewall_no_storage_port_answers_outside_the_pairs():
    """The host firewall is on (roles/firewall): a TCP scan of every node and every MooseFS
    failover address from an outsider, a client, a storage peer and the control node.
    Corosync (udp 5405, between the pair's members) is not scanned: the pairs' membership
    above and the drills below run through it."""
    nodes = [ADDRESSES[n] for n in NODES + CLIENTS]
    services = list(SERVICE_ADDRESSES)
    everything = nodes + services
    assert port_scan(outsider("jovial-mol-lustre", "10.78.6.99"), everything) == {
        a: [] for a in everything
    }
    # A client reaches the master's client port and the chunkservers, nothing else: not the
    # chunkservers' registration port 9420, not SSH, not LNet.
    mdt, ost0, ost1 = services
    elsewhere = [a for a in everything if a != ADDRESSES["ms-cl2"]]
    from_client = port_scan(["podman", "exec", "-i", "ms-cl2", "python3", "-"], elsewhere)
    assert from_client == {
        **{a: [] for a in nodes if a != ADDRESSES["ms-cl2"]},
        mdt: [9421],
        ost0: [9422],
        ost1: [9422],
    }
    # A chunkserver's node reaches the master's registration port and the other chunkserver
    # (ost0's address is its own: not scanned).
    from_oss = port_scan(["podman", "exec", "-i", "ms-oss1", "python3", "-"], [mdt, ost1])
    assert from_oss == {mdt: [9420], ost1: [9422]}
    # LNet's 988 is admitted between storage nodes, but nothing listens there without the
    # lustre backend (no LNet): refused, not open.
    others = [a for n, a in ADDRESSES.items() if n not in ("ms-mds1", *CLIENTS)]
    from_peer = port_scan(["podman", "exec", "-i", "ms-mds1", "python3", "-"], others)
    assert from_peer == {a: [] for a in others}
    # The control node's SSH reaches a node on any of its addresses, failover ones included.
    assert port_scan([sys.executable, "-"], everything) == {a: [22] for a in everything}
    # Dropped, not refused: the outsider's probes were counted by the default-deny rule.
    chain = sh("ms-oss2", "nft list chain inet jovial input").stdout
    assert dropped_packets(chain) > 60000, chain


# -- The shared filesystem, as users and their nodes see it ----------------------------------


def test_each_moosefs_daemon_runs_with_its_target_on_the_targets_address():
    for target, service in SERVICES.items():
        primary = TARGETS[target][0]
        where = started_on(primary)
        assert where.get(f"{target}-address") == [primary], where
        assert where.get(f"{target}-{service}") == [primary], where
        # The daemon's state is on the shared target, never on the node's own disk.
        unit = sh(primary, f"systemctl show -p ActiveState jovial-{service}@{target}").stdout
        assert "ActiveState=active" in unit, unit
    partner = TARGETS["jovial-mdt0"][1]
    assert (
        "ActiveState=inactive"
        in sh(partner, "systemctl show -p ActiveState jovial-mfsmaster@jovial-mdt0").stdout
    )
    state = sh("ms-mds1", f"ls {MOUNT_ROOT}/jovial-mdt0/mfs").stdout.split()
    # The master rotates its changelog every hour (changelog.0.mfs becomes .1 at the hour).
    assert "metadata.mfs.back" in state, state
    assert any(re.fullmatch(r"changelog\.\d+\.mfs", name) for name in state), state
    assert sh("ms-mds1", "ls /var/lib/mfs").stdout.split() == ["metadata.mfs.empty"]


def test_every_client_mounts_the_filesystem_from_the_metadata_failover_address():
    for client in CLIENTS:
        health = sh(client, "/usr/local/sbin/jovial-lustre-health --json")
        assert health.returncode == 0, health.stdout + health.stderr
        assert json.loads(health.stdout)["healthy"] is True
        source = sh(client, f"findmnt -n -o SOURCE {CLIENT_MOUNT}").stdout.strip()
        assert source == "mfs#10.78.6.40:9421", source
        enabled = sh(client, "systemctl is-enabled lustre-jovial.mount").stdout.strip()
        assert enabled == "enabled"


def test_a_users_file_written_on_one_client_is_read_on_the_other_with_the_same_owner():
    # The home, as the hub creates it (root is root on ms-cl1, a hub node).
    made = sh("ms-cl1", f"install -d -o ada -g astro -m 0700 {HOME}")
    assert made.returncode == 0, made.stderr
    wrote = sh(
        "ms-cl1",
        f"su -s /bin/sh ada -c 'head -c 3M /dev/urandom > {HOME}/cube.fits && "
        f"sha256sum {HOME}/cube.fits'",
    )
    assert wrote.returncode == 0, wrote.stderr
    read = sh("ms-cl2", f"su -s /bin/sh ada -c 'sha256sum {HOME}/cube.fits'")
    assert read.returncode == 0, read.stderr
    assert read.stdout.split()[0] == wrote.stdout.split()[0]
    owner = sh("ms-cl2", f"su -s /bin/sh ada -c 'stat -c \"%u:%g %a\" {HOME}/cube.fits {HOME}'")
    owner = owner.stdout.split("\n")
    assert owner[0].startswith("20001:20100"), owner
    assert owner[1] == "20001:20100 700", owner


def test_root_is_root_only_on_the_hub_client_elsewhere_it_is_nobody():
    # ms-cl2's root is squashed: it cannot read ada's home nor write the group directory.
    assert sh("ms-cl2", f"ls {HOME}").returncode != 0
    assert sh("ms-cl2", f"touch {CLIENT_MOUNT}/groups/astro/from-root").returncode != 0
    assert sh("ms-cl2", f"touch {CLIENT_MOUNT}/from-root").returncode != 0
    probe = f"{CLIENT_MOUNT}/groups/astro/from-root"
    root = sh("ms-cl1", f"touch {probe} && stat -c %u {probe}")
    assert root.stdout.strip() == "0", root.stdout + root.stderr
    sh("ms-cl1", f"rm -f {CLIENT_MOUNT}/groups/astro/from-root")


def test_the_groups_quota_stops_a_write_past_its_hard_limit():
    # lustre_quotas: astro, 200M hard, on its directory (MooseFS quotas are per directory).
    quota = sh("ms-cl1", f"mfsgetquota -n {CLIENT_MOUNT}/groups/astro").stdout
    assert "209715200" in quota, quota
    over = sh(
        "ms-cl2",
        f"su -s /bin/sh ada -c 'dd if=/dev/zero of={CLIENT_MOUNT}/groups/astro/big bs=1M "
        "count=300 conv=fsync status=none'",
        timeout=300,
    )
    assert over.returncode != 0
    assert "Disk quota exceeded" in over.stderr, over.stderr
    sh("ms-cl2", f"su -s /bin/sh ada -c 'rm -f {CLIENT_MOUNT}/groups/astro/big'")


# -- Drills --------------------------------------------------------------------------------


def _write(node: str, target: str, name: str) -> str:
    out = sh(
        node,
        f"set -e; f={MOUNT_ROOT}/{target}/{name}; head -c 4M /dev/urandom > $f; sync; "
        "sha256sum $f | cut -d' ' -f1",
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _digest(node: str, target: str, name: str) -> str:
    return sh(node, f"sha256sum {MOUNT_ROOT}/{target}/{name} | cut -d' ' -f1").stdout.strip()


def _kill_while_a_client_writes(victim: str, client: str, reader: str):
    """Kill victim while ada writes a numbered stream of fsync'd files on client; the partner
    runs every resource of the pair, the client resumes by itself, and every write it was told
    is done is read back on reader. Returns (kill_and_wait's result, the writer, the acks)."""
    writer = Writer(client, "ada", f"{HOME}/stream-{victim}")
    writer.start()
    assert writer.wait_progress(20), writer.acked()[-3:]
    blocks = capacity(reader)
    assert blocks > 0
    result = kill_and_wait(victim)
    print(f"\n{victim} killed: {json.dumps(result)}")
    assert result["failover_s"] is not None, result
    partner = result["partner"]
    where = started_on(partner)
    for target in result["targets"]:
        for resource in resources(target):
            assert where.get(resource) == [partner], (resource, where)
    # Every chunkserver registered with the master again: the whole capacity is back.
    back = wait_capacity(reader, blocks)
    print(f"whole capacity back on {reader} {back} s after the resources started")
    assert back is not None, (capacity(reader), blocks)
    assert writer.wait_progress(20), writer.acked()[-3:]
    acked = writer.stop()
    gap = longest_gap(acked)
    print(f"client writes: {len(acked)} acknowledged, longest time without service {gap} s")
    assert writer.missing(acked, reader) == []
    return result, writer, acked


# What the drills wrote, by (target, file name): the checksum every later drill compares.
WRITTEN: dict[tuple[str, str], str] = {}


def test_drill_mds_primary_killed_its_targets_come_up_on_the_partner_with_data():
    mdt = WRITTEN["jovial-mdt0", "before-kill"] = _write("ms-mds1", "jovial-mdt0", "before-kill")
    ost = _write("ms-oss1", "jovial-ost0", "before-kill")
    result, _writer, _acked = _kill_while_a_client_writes("ms-mds1", "ms-cl1", "ms-cl2")
    for target in ("jovial-mgt0", "jovial-mdt0"):
        assert mounted_on(target) == ["ms-mds2"], target
    assert _digest("ms-mds2", "jovial-mdt0", "before-kill") == mdt
    # The OSS pair did not notice.
    assert mounted_on("jovial-ost0") == ["ms-oss1"]
    assert _digest("ms-oss1", "jovial-ost0", "before-kill") == ost
    # Fencing (stonith-action reboot) started the killed node again; it rejoins as a member
    # but the targets stay on the partner (stickiness): failback is explicit.
    assert result["fenced_back_s"] is not None, result
    assert wait_member("ms-mds1", "ms-mds2"), online_nodes("ms-mds2")
    assert mounted_on("jovial-mdt0") == ["ms-mds2"]


def test_drill_the_killed_node_cannot_mount_the_target_while_the_partner_holds_it():
    assert mounted_on("jovial-mdt0") == ["ms-mds2"]
    # The kernel's log is the host's, shared by every container and a ring: counting lines
    # fails once old ones rotate out. The newest refusal line (its timestamp) is compared.
    newest = "dmesg | grep 'Device is already active on another node' | tail -n 1"
    before = sh("ms-mds1", newest).stdout.strip()
    attempt = sh(
        "ms-mds1",
        "mkdir -p /mnt/steal && mount -t ext4 /dev/jovial/mdt0 /mnt/steal",
        timeout=300,
    )
    after = sh("ms-mds1", newest).stdout.strip()
    if attempt.returncode == 0:
        sh("ms-mds1", "umount /mnt/steal")
    assert attempt.returncode != 0, "ms-mds1 mounted the MDT while ms-mds2 holds it"
    # The refusal is ext4's multiple-mount protection seeing the partner's MMP updates.
    assert after and after != before, (before, after, attempt.stderr)
    assert mounted_on("jovial-mdt0") == ["ms-mds2"]


def test_drill_failback_returns_the_targets_to_the_primary():
    took, out = failover_move("ms-mds1", "failback")
    print(f"\nMDS failback with lustre-failover.yml: {took} s")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    for target in ("jovial-mgt0", "jovial-mdt0"):
        assert mounted_on(target) == ["ms-mds1"], target
    # The file written before the kill, byte for byte, on the primary again.
    assert WRITTEN, "the kill drill did not run first: nothing to compare"
    assert _digest("ms-mds1", "jovial-mdt0", "before-kill") == WRITTEN["jovial-mdt0", "before-kill"]
    # No temporary move constraint left behind.
    constraints = sh("ms-mds1", "cibadmin --query --scope constraints")
    assert "cli-prefer" not in constraints.stdout


def test_drill_oss_maintenance_move_and_back():
    data = _write("ms-oss1", "jovial-ost0", "before-move")
    took, out = failover_move("ms-oss1")
    print(f"\nOSS maintenance move with lustre-failover.yml: {took} s")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert mounted_on("jovial-ost0") == ["ms-oss2"]
    assert mounted_on("jovial-ost1") == ["ms-oss2"]
    assert _digest("ms-oss2", "jovial-ost0", "before-move") == data
    # While ms-oss1 is in standby, moving ms-oss2's targets away is refused: no partner.
    _refused, out2 = failover_move("ms-oss2")
    assert out2.returncode != 0
    assert "refusing to standby" in out2.stdout + out2.stderr, (
        out2.stdout[-2000:] + out2.stderr[-2000:]
    )
    assert mounted_on("jovial-ost1") == ["ms-oss2"]
    took_back, out3 = failover_move("ms-oss1", "failback")
    print(f"OSS failback with lustre-failover.yml: {took_back} s")
    assert out3.returncode == 0, out3.stdout[-3000:] + out3.stderr[-2000:]
    assert mounted_on("jovial-ost0") == ["ms-oss1"]
    assert mounted_on("jovial-ost1") == ["ms-oss2"]
    assert _digest("ms-oss1", "jovial-ost0", "before-move") == data


def test_drill_oss_primary_killed_a_writing_client_resumes_and_loses_nothing():
    _result, writer, acked = _kill_while_a_client_writes("ms-oss1", "ms-cl2", "ms-cl1")
    assert mounted_on("jovial-ost0") == ["ms-oss2"]
    assert wait_member("ms-oss1", "ms-oss2"), online_nodes("ms-oss2")
    took, out = failover_move("ms-oss1", "failback")
    print(f"OSS failback with lustre-failover.yml: {took} s")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert mounted_on("jovial-ost0") == ["ms-oss1"]
    # Everything written is still there once ost0 is back on its primary.
    assert writer.missing(acked, "ms-cl2") == []


def test_a_restarted_client_mounts_the_filesystem_again_by_itself():
    subprocess.run(["podman", "restart", "--time", "5", "ms-cl2"], check=True, capture_output=True)
    deadline = time.monotonic() + 120
    health = None
    while time.monotonic() < deadline:
        health = sh("ms-cl2", "/usr/local/sbin/jovial-lustre-health")
        if running("ms-cl2") and health.returncode == 0:
            break
        time.sleep(2)
    assert health is not None and health.returncode == 0, health
    assert sh("ms-cl2", f"su -s /bin/sh ada -c 'test -s {HOME}/cube.fits'").returncode == 0


def test_after_the_drills_every_target_is_on_its_preferred_node_once():
    time.sleep(1)
    for target, (primary, _failover) in TARGETS.items():
        assert mounted_on(target) == [primary], target
    for node in NODES:
        assert cluster(node) is not None, node
