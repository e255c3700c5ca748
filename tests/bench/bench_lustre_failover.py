#!/usr/bin/env python3
"""Lustre failover benchmark: time for a pair to run its targets on the partner.

Runs against the Molecule `lustre` scenario (MDS pair ms-mds1/2, OSS pair ms-oss1/2, lab_ext4
backend: real corosync/pacemaker, real fencing through the lab fence agent, real ext4 MMP).
By default it creates and converges the scenario, measures, and destroys it; with --reuse it
measures an already converged scenario (e.g. after `molecule converge -s lustre`) and leaves
it running.

    JOVIAL_BASE_IMAGE=$(images/base/build.sh --print) \
        .venv/bin/python tests/bench/bench_lustre_failover.py

Per pair, `runs` times each:
  - crash: the primary's container is killed; seconds until pacemaker on the partner reports
    every target of the pair Started there (detection + fencing + MMP-guarded mounts), and
    until fencing (stonith-action reboot) had the killed node running again;
  - failback: playbooks/lustre-failover.yml -e lustre_failover_action=failback, wall time;
  - maintenance: lustre-failover.yml moving the primary's targets to the partner (standby and
    wait), then failback, wall time of each.

Writes build/bench/lustre_failover.json. Figures are reported, not asserted.
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
sys.path.insert(0, str(TOP / "molecule" / "lustre" / "tests"))

from lustre_drills import (  # noqa: E402 (the drills live with the scenario's tests)
    PAIRS,
    TARGETS,
    ansible_env,
    failover_move,
    kill_and_wait,
    mounted_on,
    sh,
    wait_member,
)

OUT = TOP / "build" / "bench"


def on_preferred() -> bool:
    return all(mounted_on(t) == [p] for t, (p, _f) in TARGETS.items())


def measure_pair(pair: str, runs: int) -> dict:
    primary, partner = PAIRS[pair]
    crashes, failbacks, moves = [], [], []
    for n in range(runs):
        r = kill_and_wait(primary)
        r["rejoined"] = wait_member(primary, partner)
        crashes.append(r)
        print(f"{pair} crash {n + 1}/{runs}: {r}", flush=True)
        took, out = failover_move(primary, "failback")
        failbacks.append({"duration_s": took, "rc": out.returncode})
        print(f"{pair} failback {n + 1}/{runs}: {failbacks[-1]}", flush=True)
        if out.returncode != 0:
            print(out.stdout[-3000:], file=sys.stderr)
            break
    for n in range(runs):
        took, out = failover_move(primary)
        back, out2 = failover_move(primary, "failback")
        moves.append(
            {"standby_s": took, "failback_s": back, "rc": [out.returncode, out2.returncode]}
        )
        print(f"{pair} maintenance {n + 1}/{runs}: {moves[-1]}", flush=True)
        if out.returncode or out2.returncode:
            print((out.stdout + out2.stdout)[-3000:], file=sys.stderr)
            break
    ok = [c["failover_s"] for c in crashes if c["failover_s"] is not None]
    return {
        "primary": primary,
        "partner": partner,
        "crash": crashes,
        "crash_failover_worst_s": max(ok) if ok else None,
        "failback": failbacks,
        "maintenance": moves,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="use a converged scenario, keep it")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    if not start("lustre", args.reuse, ansible_env()):
        return 2
    os.environ["MOLECULE_EPHEMERAL_DIRECTORY"] = str(ephemeral_dir("lustre"))
    try:
        if not on_preferred():
            raise SystemExit("targets are not on their preferred nodes; fail them back first")
        versions = sh("ms-mds1", "corosync -v | head -1; pacemakerd --version | head -1").stdout
        pairs = {pair: measure_pair(pair, args.runs) for pair in PAIRS}
    finally:
        if not args.reuse:
            molecule("lustre", "destroy", ansible_env())
    OUT.mkdir(parents=True, exist_ok=True)
    result = {
        "pairs": pairs,
        "backend": "lab_ext4 (loop-backed ext4 with MMP, ocf:heartbeat:Filesystem)",
        "fencing": "fence_jovial_podman (stonith-action reboot)",
        "versions": versions.strip().splitlines(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (OUT / "lustre_failover.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
