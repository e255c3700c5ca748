#!/usr/bin/env python3
"""Lab converge benchmark: cold `make lab` and a no-op re-run, total and per role.

Run with `make bench` (it builds the image first). Destroys any running lab, builds it from
nothing, converges, converges again (each phase's output in build/bench/lab_converge-<phase>.log)
and writes build/bench/lab_converge.json:

    {"cold": {"total_s", "site_yml_s", "plays": [...], "roles": {...}, "changed": n},
     "noop": {...same...}, "targets": {"cold_s": 600, "noop_s": 90}, "machine": {...}}

Figures are reported, not asserted: the targets from DESIGN.md are written beside them.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
OUT = TOP / "build" / "bench"
SUMMARY = TOP / "build" / "lab" / "last-converge.json"


def run(cmd: list[str], log: str) -> float:
    """Run cmd with its output in build/bench/<log>.log (read it when a phase fails)."""
    start = time.monotonic()
    with (OUT / f"{log}.log").open("w") as out:
        done = subprocess.run(cmd, cwd=TOP, check=False, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (rc {done.returncode}): see {out.name}")
    return round(time.monotonic() - start, 1)


def converge(phase: str) -> dict:
    total = run(["scripts/lab-up.sh"], f"lab_converge-{phase}")
    summary = json.loads(SUMMARY.read_text())
    return {
        "total_s": total,
        "site_yml_s": summary["elapsed"],
        "plays": summary["plays"],
        "roles": summary["roles"],
        "changed": sum(s["changed"] for s in summary["stats"].values()),
    }


def main() -> int:
    if "JOVIAL_BASE_IMAGE" not in os.environ:
        print("run through `make bench` (it builds the node image first)", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    run(["scripts/lab-down.sh"], "lab_converge-down")
    cold = converge("cold")
    noop = converge("noop")
    result = {
        "cold": cold,
        "noop": noop,
        "targets": {"cold_s": 600, "noop_s": 90},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    (OUT / "lab_converge.json").write_text(json.dumps(result, indent=2))
    print(f"cold make lab: {cold['total_s']} s (site.yml {cold['site_yml_s']} s)")
    print(
        f"no-op re-run:  {noop['total_s']} s (site.yml {noop['site_yml_s']} s), "
        f"changed={noop['changed']}"
    )
    print(f"written: {OUT / 'lab_converge.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
