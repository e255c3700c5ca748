"""Filters for package installs that cost little when nothing is missing.

``dpkg_missing`` reads the output of one ``dpkg-query --show`` (a few milliseconds on the
node) and returns the wanted packages that are not installed, so a role runs
``ansible.builtin.apt`` (which loads the whole apt cache: about a second of CPU per node) only
when there is something to install. Unit-tested in tests/unit/plugins/filter/test_packages.py.

``pip_missing`` does the same for a virtualenv from the output of ``pip list --format=freeze``
(under a second), so ``ansible.builtin.pip`` (which runs a full ``pip install`` of every pin,
resolving dependencies: about ten seconds for the users' environment) runs only when a pin
is not installed at exactly its version.

The roles query dpkg with ``--showformat='${Package} ${db:Status-Abbrev}\\n'``; a line
``chrony ii `` means installed. A package dpkg does not know is absent from the output.
"""

from __future__ import annotations

import re
from typing import Any

from ansible.errors import AnsibleFilterError

# Plain Debian package names; anything else (pkg=1.2, pkg:amd64, globs) is left to apt.
_PLAIN = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")


def dpkg_missing(wanted: Any, dpkg_output: Any) -> list[str]:
    """The packages of ``wanted`` that ``dpkg_output`` does not show as installed (``ii``),
    in the order given. Names that are not plain package names are always returned: apt
    decides about those."""
    if isinstance(wanted, str) or not isinstance(wanted, (list, tuple)):
        raise AnsibleFilterError(f"dpkg_missing wants a list of package names, got {wanted!r}")
    if not isinstance(dpkg_output, str):
        raise AnsibleFilterError(
            f"dpkg_missing wants the stdout of dpkg-query --show, got {dpkg_output!r}"
        )
    installed = set()
    for line in dpkg_output.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1] == "ii":
            installed.add(fields[0])
    return [str(p) for p in wanted if not _PLAIN.match(str(p)) or str(p) not in installed]


def _canonical(name: str) -> str:
    """A Python project name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


# name==version, nothing else (no extras, markers, ranges or URLs).
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.!+_-]+)$")


def pip_missing(wanted: Any, freeze_output: Any) -> list[str]:
    """The requirements of ``wanted`` not installed at exactly their pinned version according
    to ``freeze_output`` (``pip list --format=freeze``), in the order given. Anything but a
    plain ``name==version`` pin is always returned: pip decides about those."""
    if isinstance(wanted, str) or not isinstance(wanted, (list, tuple)):
        raise AnsibleFilterError(f"pip_missing wants a list of requirements, got {wanted!r}")
    if not isinstance(freeze_output, str):
        raise AnsibleFilterError(
            f"pip_missing wants the stdout of pip list --format=freeze, got {freeze_output!r}"
        )
    installed = {}
    for line in freeze_output.splitlines():
        name, sep, version = line.strip().partition("==")
        if sep:
            installed[_canonical(name)] = version
    missing = []
    for requirement in wanted:
        pin = _PIN.match(str(requirement).strip())
        if not pin or installed.get(_canonical(pin.group(1))) != pin.group(2):
            missing.append(str(requirement))
    return missing


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"dpkg_missing": dpkg_missing, "pip_missing": pip_missing}
