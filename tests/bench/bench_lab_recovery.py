#!/usr/bin/env python3
"""Lab recovery benchmark: how long an operator's repair playbook takes in the lab.

Targets a running lab (`make lab`), whose nodes are reached over SSH as on a real site
(Molecule's podman connection, without pipelining, is several times slower per task). For
each run it wipes one etcd member's data the way a lost disk would (etcd stopped, data
directory gone), then times

    ansible-playbook -i inventories/lab playbooks/recover-etcd-member.yml -l <member>

and checks the result as the operator would: every member healthy with identical
`endpoint hashkv`, and a key written before the wipe readable on the recovered member.
The slowest roles/plays of each run come from the jovial_summary callback.

    make bench BENCH=lab_recovery        # or: .venv/bin/python tests/bench/bench_lab_recovery.py

Writes build/bench/lab_recovery.json:

    {"etcd_member": [{"member", "duration_s", "rc", "consistent", "key_back",
                      "roles_s": {role: s}}...],
     "targets": {"etcd_member_s": 120}, "machine": {...}}

Figures are reported, not asserted: the target of the etcd issue is written beside them.
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
    env = {**os.environ, "JOVIAL_SUMMARY_FILE": str(SUMMARY)}
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
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
    result = {
        "etcd_member": runs,
        "targets": {"etcd_member_s": 120},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (OUT / "lab_recovery.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {OUT / 'lab_recovery.json'}")
    return 0 if all(r["rc"] == 0 for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
