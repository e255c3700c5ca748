#!/usr/bin/env python3
"""Lab converge benchmark: cold `make lab` and a no-op re-run, total and per role.

Run with `make bench` (it builds the image first). Destroys any running lab, builds it from
nothing, converges, converges again, and writes build/bench/lab_converge.json:

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


def run(cmd: list[str]) -> float:
    start = time.monotonic()
    subprocess.run(cmd, cwd=TOP, check=True, stdout=subprocess.DEVNULL)
    return round(time.monotonic() - start, 1)


def converge() -> dict:
    total = run(["scripts/lab-up.sh"])
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
    run(["scripts/lab-down.sh"])
    cold = converge()
    noop = converge()
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
