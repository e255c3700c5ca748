#!/usr/bin/env python3
"""Lab recovery benchmark: how long an operator's repair takes in the lab, and what survives it.

Targets a running lab (`make lab`), whose nodes are reached over SSH as on a real site
(Molecule's podman connection, without pipelining, is several times slower per task).

etcd member (each of --runs): one member's data wiped the way a lost disk would (etcd stopped,
data directory gone), then

    ansible-playbook -i inventories/lab playbooks/recover-etcd-member.yml -l <member>

timed and checked as the operator would: every member healthy with identical `endpoint
hashkv`, and a key written before the wipe readable on the recovered member.

hub node (--hub-node): the user's files live on the shared filesystem, the hub database's
backups on the backup store (oss2), not on the hub node. The lab user ($LAB_USER) logs in
through the front door and saves a file from their server; its owner is read on a Kubernetes
worker (another client of the filesystem); the hub database is backed up (its timer's
service, which copies it to the store); the hub node is re-imaged (`make lab-node NODE=hub1`:
the node and its disk are gone, a bare one is made from the image) and the operator's one
command brings it back, timed:

    ansible-playbook -i inventories/lab playbooks/recover-node.yml -l hub1

The hub must know the same users as before (its database restored from the store); the user
logs in again and reads the file back through their new server, and its owner is read on the
new hub node.

any node (--reimage NODE...): the node's backups are taken (each jovial-*-backup.service, as
its timer would), the node is re-imaged (`make lab-node NODE=<node>`) and
`recover-node.yml -l <node>` timed; it must end with verify.yml passing on the node (rc 0), and
a second run is timed too and must change nothing on the node (its PLAY RECAP). On the node
keeping the Kubernetes hubs' databases (kw1), each hub must know the same users after.

The slowest roles/plays of each run come from the jovial_summary callback.

    make bench BENCH=lab_recovery        # or: .venv/bin/python tests/bench/bench_lab_recovery.py
    .venv/bin/python tests/bench/bench_lab_recovery.py --runs 0 --hub-node
    .venv/bin/python tests/bench/bench_lab_recovery.py --runs 0 --reimage kcp2 edge2 mds2

Writes build/bench/lab_recovery.json:

    {"etcd_member": [{"member", "duration_s", "rc", "consistent", "key_back",
                      "roles_s": {role: s}}...],
     "hub_node": {"node", "how", "duration_s", "rc", "restored", "hub_users_before",
                  "hub_users_back", "roles_s", "file_back", "owner_before", "owner_after",
                  "expected_owner"},
     "reimaged": {node: {"groups", "how", "duration_s", "rc", "roles_s", "second_run_rc",
                         "second_run_s", "second_run_changed", "hub_db_users_before",
                         "hub_db_users_back"}},
     "targets": {"etcd_member_s": 120, "hub_node_s": 180, "node_s": 180}, "machine": {...}}

A run updates only what it measured; the other figures of the file are kept.

Figures are reported, not asserted: the issues' targets are written beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
OUT = TOP / "build" / "bench"
SUMMARY = OUT / "lab_recovery-last-run.json"
MEMBERS = ["core1", "core2", "core3"]
HUB_NODE = "hub1"
# The checkout's Ansible, whether run through `make bench` or as .venv/bin/python directly.
VENV_PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
OTHER_CLIENT = "kw1"  # another lustre_client node of the lab
sys.path.insert(0, str(TOP / "src"))

from jovial_hub.client import HubClient, HubError  # noqa: E402


def sh(node: str, script: str) -> subprocess.CompletedProcess[str]:
    """A login shell on a lab node (root's etcdctl environment), as an operator."""
    return subprocess.run(
        ["podman", "exec", node, "bash", "-lc", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def consistent(node: str) -> bool:
    out = sh(node, "etcdctl -w json --command-timeout=5s endpoint hashkv --cluster")
    if out.returncode != 0 or not out.stdout.strip():
        return False
    members = json.loads(out.stdout)
    return len(members) == len(MEMBERS) and len({m["HashKV"]["hash"] for m in members}) == 1


def recover(member: str, other: str, n: int) -> dict:
    key = f"bench/lab-recovery/{int(time.time())}-{n}"
    if sh(other, f"etcdctl put {key} before-wipe").returncode != 0:
        raise SystemExit(f"cannot write {key} through {other}: is the lab up (make lab)?")
    wiped = sh(member, "systemctl stop etcd && rm -rf /var/lib/etcd/data")
    if wiped.returncode != 0:
        raise SystemExit(f"cannot wipe {member}: {wiped.stderr}")
    env = {**os.environ, "PATH": VENV_PATH, "JOVIAL_SUMMARY_FILE": str(SUMMARY)}
    start = time.monotonic()
    run = subprocess.run(
        [
            "ansible-playbook",
            "-i",
            "inventories/lab",
            "playbooks/recover-etcd-member.yml",
            "-l",
            member,
        ],
        cwd=TOP,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    duration = round(time.monotonic() - start, 1)
    if run.returncode != 0:
        print(run.stdout[-3000:] + run.stderr[-2000:], file=sys.stderr)
    summary = json.loads(SUMMARY.read_text()) if SUMMARY.is_file() else {}
    # Serializable read from the recovered member itself: its own copy of the data.
    local = "ETCDCTL_ENDPOINTS=https://127.0.0.1:2379"
    back = sh(member, f"{local} etcdctl get --consistency=s --print-value-only {key}")
    return {
        "member": member,
        "duration_s": duration,
        "rc": run.returncode,
        "consistent": consistent(other),
        "key_back": back.stdout.strip() == "before-wipe",
        "roles_s": summary.get("roles", {}),
    }


def read_access() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in (TOP / "build" / "lab" / "access.env").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "export")):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip().strip('"')
    return env


def owner(node: str, user: str, path: str) -> str:
    """uid:gid of path as the user sees it on the node ('' when they cannot): root is
    squashed on the shared filesystem's clients, and a home is the user's alone."""
    return sh(node, f"runuser -u {user} -- stat -c %u:%g {path}").stdout.strip()


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=TOP, capture_output=True, text=True
    )


def user_server(access: dict[str, str]) -> tuple[HubClient, str]:
    """The lab user logged in through the front door with a ready server; (client, xsrf)."""
    client = HubClient(access["HUB_URL"], access["LAB_CA"], timeout=120)
    client.login(access["LAB_USER"], access["LAB_PASSWORD"])
    if client.user is None:
        raise SystemExit(f"{access['LAB_USER']} cannot log in at {access['HUB_URL']}")
    client.start_server()
    if not client.wait_ready(timeout=300):
        raise SystemExit(f"{access['LAB_USER']}'s server did not become ready within 300 s")
    return client, client.open_server()


def lab_node(node: str) -> None:
    """The node re-imaged: `make lab-node`, its container and disk gone, a bare one made."""
    bare = make("lab-node", f"NODE={node}")
    if bare.returncode != 0:
        raise SystemExit(f"make lab-node NODE={node} failed:\n{bare.stderr[-2000:]}")


HUB_USERS = "sqlite3 -readonly /var/lib/jupyterhub/jupyterhub.sqlite 'select name from users'"


def hub_node() -> dict:
    access = read_access()
    user = access["LAB_USER"]
    home = sh(HUB_NODE, f"getent passwd {user} | cut -d: -f6").stdout.strip()
    ids = sh(HUB_NODE, f"echo $(id -u {user}):$(id -g {user})").stdout.strip()
    name = f"recovery-proof-{int(time.time())}.txt"
    token = f"written before {HUB_NODE} was destroyed, {time.ctime()}"
    client, xsrf = user_server(access)
    client.write_file(name, token, xsrf)
    before = owner(OTHER_CLIENT, user, f"{home}/{name}")
    client.stop_server()
    # The hub database's backup (daily on its timer), copied to the backup store.
    users_before = sorted(sh(HUB_NODE, HUB_USERS).stdout.split())
    backup = sh(HUB_NODE, "systemctl start jovial-jupyterhub-backup.service")
    if backup.returncode != 0:
        raise SystemExit(f"the hub database backup failed on {HUB_NODE}:\n{backup.stderr}")

    lab_node(HUB_NODE)
    run, duration, converge = recover_node(HUB_NODE, "reimaged")
    result = {
        "node": HUB_NODE,
        "how": f"make lab-node NODE={HUB_NODE}, then recover-node.yml -l {HUB_NODE}",
        "duration_s": duration,
        "rc": run.returncode,
        "restored": next(
            (line.strip() for line in run.stdout.splitlines() if "hub database restored" in line),
            "",
        ),
        "hub_users_before": len(users_before),
        "hub_users_back": sorted(sh(HUB_NODE, HUB_USERS).stdout.split()) == users_before,
        "roles_s": converge.get("roles", {}),
        "expected_owner": ids,
        "owner_before": before,
    }
    if run.returncode == 0:
        try:
            client, _ = user_server(access)
            result["file_back"] = client.read_file(name) == token
            result["owner_after"] = owner(HUB_NODE, user, f"{home}/{name}")
            client.stop_server()
        except HubError as exc:
            result["file_back"] = False
            result["error"] = str(exc)[:300]
    return result


def recover_node(node: str, tag: str) -> tuple[subprocess.CompletedProcess[str], float, dict]:
    """One timed run of recover-node.yml -l node; (run, seconds, jovial_summary figures)."""
    summary = TOP / "build" / "lab" / f"recover-node-{node}.json"
    start = time.monotonic()
    run = subprocess.run(
        ["ansible-playbook", "-i", "inventories/lab", "playbooks/recover-node.yml", "-l", node],
        cwd=TOP,
        env={**os.environ, "PATH": VENV_PATH, "JOVIAL_SUMMARY_FILE": str(summary)},
        capture_output=True,
        text=True,
        check=False,
    )
    duration = round(time.monotonic() - start, 1)
    (OUT / f"recover-node-{node}-{tag}.log").write_text(run.stdout + run.stderr)
    if run.returncode != 0:
        print(run.stdout[-3000:] + run.stderr[-2000:], file=sys.stderr)
    return run, duration, json.loads(summary.read_text()) if summary.exists() else {}


def changed_on(run: subprocess.CompletedProcess[str], node: str) -> int | None:
    """changed=N of node in the run's PLAY RECAP (None when it is not there)."""
    recap = run.stdout.split("PLAY RECAP")[-1]
    for line in recap.splitlines():
        if line.split(":")[0].strip() == node and "changed=" in line:
            return int(line.split("changed=")[1].split()[0])
    return None


HUB_DBS = "/var/lib/jovial/hubs"  # jupyterhub_k8s_hub_db_local_root (the lab's kw1)


def hub_db_users(node: str) -> dict[str, list[str]]:
    """{hub: its users} of the Kubernetes hubs whose databases the node keeps ({} if none)."""
    out = sh(
        node,
        f"for db in {HUB_DBS}/*/jupyterhub.sqlite; do [ -f $db ] || continue; "
        'echo "#$(basename $(dirname $db))"; '
        "sqlite3 -readonly $db 'select name from users order by name'; done",
    )
    users: dict[str, list[str]] = {}
    hub = ""
    for line in out.stdout.split():
        if line.startswith("#"):
            hub = line[1:]
            users[hub] = []
        elif hub:
            users[hub].append(line)
    return users


def reimaged(node: str) -> dict:
    """The node re-imaged, then brought back by one recover-node.yml run, then a second run."""
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", "inventories/lab", "--list"],
        cwd=TOP,
        capture_output=True,
        text=True,
        check=True,
    )
    inventory = json.loads(listed.stdout)
    groups = sorted(
        name
        for name, group in inventory.items()
        if name not in ("_meta", "all") and node in group.get("hosts", [])
    )
    # The node's backups as their timers would have taken them (each jovial-*-backup.service
    # copies its run to the store), and what the hubs whose databases it keeps know.
    backups = sh(
        node,
        "for u in $(systemctl list-units --all --plain --no-legend 'jovial-*-backup.service'"
        " | awk '{print $1}'); do systemctl start $u || exit 1; done",
    )
    if backups.returncode != 0:
        raise SystemExit(f"a backup failed on {node}:\n{backups.stderr[-2000:]}")
    users_before = hub_db_users(node)
    lab_node(node)
    run, duration, converge = recover_node(node, "reimaged")
    result = {
        "groups": groups,
        "how": f"make lab-node NODE={node}, then recover-node.yml -l {node}",
        "duration_s": duration,
        "rc": run.returncode,
        "roles_s": converge.get("roles", {}),
    }
    if users_before:
        result["hub_db_users_before"] = users_before
        result["hub_db_users_back"] = hub_db_users(node) == users_before
    if run.returncode == 0:
        again, again_s, _ = recover_node(node, "again")
        result.update(
            second_run_rc=again.returncode,
            second_run_s=again_s,
            second_run_changed=changed_on(again, node),
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="etcd member recoveries")
    parser.add_argument(
        "--hub-node", action="store_true", help=f"also destroy {HUB_NODE} and re-create it"
    )
    parser.add_argument(
        "--reimage",
        nargs="+",
        default=[],
        metavar="NODE",
        help="also re-image each of these lab nodes and time recover-node.yml on it",
    )
    args = parser.parse_args()
    if not (TOP / "build" / "lab" / "access.env").is_file():
        print("no lab here: run `make lab` first", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    runs = []
    for n in range(args.runs):
        member = MEMBERS[(n + 2) % len(MEMBERS)]
        other = MEMBERS[n % len(MEMBERS)]
        runs.append(recover(member, other, n))
        print(f"etcd member recovery {n + 1}/{args.runs}: {runs[-1]}", flush=True)
        if runs[-1]["rc"] != 0:
            break
    hub = None
    if args.hub_node:
        hub = hub_node()
        print(f"hub node re-created: {hub}", flush=True)
    nodes = {}
    for node in args.reimage:
        nodes[node] = reimaged(node)
        print(f"{node} re-imaged and recovered: {nodes[node]}", flush=True)
    path = OUT / "lab_recovery.json"
    result = json.loads(path.read_text()) if path.is_file() else {}
    if args.runs:
        result["etcd_member"] = runs
    if hub is not None:
        result["hub_node"] = hub
    result.setdefault("reimaged", {}).update(nodes)
    result.update(
        targets={"etcd_member_s": 120, "hub_node_s": 180, "node_s": 180},
        machine={"cpus": os.cpu_count(), "platform": platform.platform()},
        measured_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {path}")
    hub_ok = hub is None or (
        hub["rc"] == 0
        and hub["hub_users_back"]
        and hub.get("file_back")
        and hub["owner_before"] == hub.get("owner_after") == hub["expected_owner"]
    )
    nodes_ok = all(
        n["rc"] == 0
        and n.get("second_run_rc") == 0
        and n.get("second_run_changed") == 0
        and n.get("hub_db_users_back", True)
        for n in nodes.values()
    )
    return 0 if all(r["rc"] == 0 for r in runs) and hub_ok and nodes_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
