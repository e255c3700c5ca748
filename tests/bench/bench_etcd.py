#!/usr/bin/env python3
"""etcd benchmark: leader-loss write gap and recovery-playbook duration.

Runs against the Molecule `etcd` scenario (3 members, me-etcd1..3). By default it creates and
converges the scenario, measures, and destroys it; with --reuse it measures an already
converged scenario (e.g. after `molecule converge -s etcd`) and leaves it running.

    make -C /work/main deps image   # once
    JOVIAL_BASE_IMAGE=$(images/base/build.sh --print) .venv/bin/python tests/bench/bench_etcd.py

Writes build/bench/etcd.json:

    {"leader_loss": [{"old_leader", "longest_gap_s", "acked", "failed", "lost"}...],
     "leader_loss_worst_gap_s", "recovery": [{"duration_s", "rc"}...],
     "targets": {"leader_loss_gap_s": 3, "recovery_s": 120}, "etcd_version", "machine"}

Figures are reported, not asserted: the targets from DESIGN.md are written beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from molecule_scenario import ephemeral_dir, molecule, start

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "molecule" / "etcd" / "tests"))

from etcd_drills import (  # noqa: E402 (the drills live with the scenario's tests)
    MEMBERS,
    ansible_env,
    keys_on,
    leader_loss_drill,
    playbook,
    sh,
    wait_healthy,
)

OUT = TOP / "build" / "bench"
ALL = sorted(MEMBERS)


def leader_loss(runs: int) -> list[dict]:
    results = []
    for n in range(runs):
        prefix = f"bench/leader-{int(time.time())}-{n}"
        r = leader_loss_drill(prefix)
        wait_healthy(r["writer"], ALL)
        held = keys_on(r["writer"], prefix)
        results.append(
            {
                "old_leader": r["old_leader"],
                "longest_gap_s": r["longest_gap_s"],
                "acked": len(r["acked"]),
                "failed": len(r["failed"]),
                "lost": len(set(r["acked"]) - held),
            }
        )
        print(f"leader loss {n + 1}/{runs}: {results[-1]}", flush=True)
    return results


def recovery(runs: int) -> list[dict]:
    results = []
    for n in range(runs):
        target = ALL[(n + 2) % len(ALL)]
        sh(target, "systemctl stop etcd && rm -rf /var/lib/etcd/data")
        start = time.monotonic()
        out = playbook("recover-etcd-member.yml", "-l", target)
        duration = round(time.monotonic() - start, 1)
        results.append({"target": target, "duration_s": duration, "rc": out.returncode})
        print(f"recovery {n + 1}/{runs}: {results[-1]}", flush=True)
        if out.returncode != 0:
            print(out.stdout[-3000:], file=sys.stderr)
            break
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="use a converged scenario, keep it")
    parser.add_argument("--leader-runs", type=int, default=3)
    parser.add_argument("--recovery-runs", type=int, default=2)
    args = parser.parse_args()
    if not start("etcd", args.reuse, ansible_env()):
        return 2
    os.environ["MOLECULE_EPHEMERAL_DIRECTORY"] = str(ephemeral_dir("etcd"))
    try:
        version = sh("me-etcd1", "etcd --version | head -1").stdout.strip()
        gaps = leader_loss(args.leader_runs)
        recoveries = recovery(args.recovery_runs)
    finally:
        if not args.reuse:
            molecule("etcd", "destroy", ansible_env())
    OUT.mkdir(parents=True, exist_ok=True)
    result = {
        "leader_loss": gaps,
        "leader_loss_worst_gap_s": max((g["longest_gap_s"] or 0) for g in gaps) if gaps else None,
        "recovery": recoveries,
        "targets": {"leader_loss_gap_s": 3, "recovery_s": 120},
        "etcd_version": version,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (OUT / "etcd.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
