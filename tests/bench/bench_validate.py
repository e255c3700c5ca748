#!/usr/bin/env python3
"""Inventory validation benchmark: how long a broken inventory takes to be refused.

Runs the real `ansible-playbook playbooks/validate.yml` against every inventory under
tests/fixtures/inventories/ (the broken cases and the valid one) and against
inventories/sample, and writes build/bench/validate.json:

    {"runs": [{"inventory", "rc", "seconds", "first_problem"}], "target_s": 10}

The target (a broken inventory refused in under 10 s, no host contacted) is written beside
the figures; correctness is asserted by tests/unit/playbooks/test_validate_playbook.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
OUT = TOP / "build" / "bench"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    inventories = sorted((TOP / "tests" / "fixtures" / "inventories").iterdir())
    inventories.append(TOP / "inventories" / "sample")
    env = {**os.environ, "ANSIBLE_CONFIG": str(TOP / "ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0"}
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    runs = []
    for inv in inventories:
        start = time.monotonic()
        proc = subprocess.run(
            [ansible_playbook, "-i", str(inv), "playbooks/validate.yml"],
            cwd=TOP,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = round(time.monotonic() - start, 2)
        problem = re.search(r"^\s*(?:\\n)?\s*1\. (.+?)(?:\\n|$)", proc.stdout, re.M)
        runs.append(
            {
                "inventory": str(inv.relative_to(TOP)),
                "rc": proc.returncode,
                "seconds": seconds,
                "first_problem": problem.group(1) if problem else None,
            }
        )
        print(f"{inv.relative_to(TOP)!s:<45} rc={proc.returncode} {seconds:>6.2f} s")
    (OUT / "validate.json").write_text(json.dumps({"runs": runs, "target_s": 10}, indent=2))
    print(f"written: {OUT / 'validate.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
