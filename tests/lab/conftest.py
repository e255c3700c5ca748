"""The lab checks share the Molecule tests' helpers (molecule/resources: the headless
browser)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "molecule" / "resources"))
