"""Filter ``jovial_sha256sums``: a ``sha256sum`` listing as a mapping path -> sha256.

A mirror of pinned files (the Kubernetes binaries and image archives) publishes its checksums
as the output of ``sha256sum`` (``<64 hex>  <path>``, or ``<64 hex> *<path>`` in binary mode).
The roles want them as ``{'bin/kubeadm': '<64 hex>', ...}`` to give ``get_url`` its
``checksum``. Unit-tested in tests/unit/plugins/filter/test_checksums.py.
"""

from __future__ import annotations

import re
from typing import Any

from ansible.errors import AnsibleFilterError

_LINE = re.compile(r"^(?P<sha>[0-9a-fA-F]{64}) [ *](?P<path>\S.*)$")


def jovial_sha256sums(text: Any) -> dict[str, str]:
    """{path: sha256 (lower case)} of a sha256sum listing; blank lines are skipped, and any
    other line, or a path listed twice, is an error quoting the line."""
    if not isinstance(text, str):
        raise AnsibleFilterError(f"jovial_sha256sums wants sha256sum's output, got {text!r}")
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line.rstrip())
        if match is None:
            raise AnsibleFilterError(
                f"jovial_sha256sums: line {number} {line!r} is not '<sha256>  <path>' "
                "(regenerate the listing with sha256sum)"
            )
        path = match["path"].removeprefix("./")
        if path in sums:
            raise AnsibleFilterError(f"jovial_sha256sums: {path!r} is listed twice (line {number})")
        sums[path] = match["sha"].lower()
    return sums


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"jovial_sha256sums": jovial_sha256sums}
