"""The Molecule scenario a benchmark measures: created and converged for it, or reused.

Shared by bench_etcd.py, bench_ldap.py and bench_lustre_failover.py (run as scripts, so this
directory is on sys.path).
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


def molecule(scenario: str, action: str, env: Mapping[str, str] | None = None) -> None:
    """molecule <action> -s <scenario> from the project directory; raises when it fails."""
    subprocess.run(
        [str(TOP / ".venv" / "bin" / "molecule"), action, "-s", scenario],
        cwd=TOP,
        env=None if env is None else dict(env),
        check=True,
    )


def ephemeral_dir(scenario: str) -> Path:
    """The converged scenario's ephemeral directory (inventory, pki, secrets)."""
    pattern = os.path.expanduser(f"~/.ansible/tmp/molecule.*.{scenario}/inventory")
    found = sorted(glob.glob(pattern))
    if not found:
        raise SystemExit(f"no converged Molecule {scenario} scenario found (run without --reuse)")
    return Path(found[0]).parent


def start(scenario: str, reuse: bool, env: Mapping[str, str] | None = None) -> bool:
    """Destroy and converge the scenario unless reuse; False (with the fix printed) when the
    node image is not named."""
    if reuse:
        return True
    if "JOVIAL_BASE_IMAGE" not in os.environ:
        print("set JOVIAL_BASE_IMAGE (images/base/build.sh --print)", file=sys.stderr)
        return False
    molecule(scenario, "destroy", env)
    molecule(scenario, "converge", env)
    return True
