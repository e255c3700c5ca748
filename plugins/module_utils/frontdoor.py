"""Pure helpers for the front-door status modules (vip_status, tls_endpoint).

No Ansible imports: the modules stay thin and these are unit-tested on captured output
(tests/unit/plugins/module_utils/test_frontdoor.py).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterable, Mapping
from typing import Any


def parse_ip_addr_oneline(text: str) -> list[dict[str, Any]]:
    """Parse `ip -o addr show` (iproute2) into one dict per address.

    Each line looks like
    ``2: eth0    inet 10.78.4.100/24 scope global secondary eth0:41\\       valid_lft ...``;
    the result is ``{"index": 2, "interface": "eth0", "family": "inet",
    "address": "10.78.4.100", "prefixlen": 24, "label": "eth0:41", "secondary": True}``.
    Lines that are not address lines are skipped.
    """
    entries: list[dict[str, Any]] = []
    for line in text.splitlines():
        head = line.split("\\", 1)[0].split()
        if len(head) < 4 or not head[0].endswith(":") or head[2] not in ("inet", "inet6"):
            continue
        try:
            index = int(head[0][:-1])
            interface_address = ipaddress.ip_interface(head[3])
        except ValueError:
            continue
        words = head[4:]
        label = head[1]
        # For inet the label (the interface name or an alias like eth0:41) is the last word.
        if head[2] == "inet" and words and words[-1].startswith(head[1].split("@")[0]):
            label = words[-1]
        entries.append(
            {
                "index": index,
                "interface": head[1].split("@")[0],
                "family": head[2],
                "address": str(interface_address.ip),
                "prefixlen": interface_address.network.prefixlen,
                "label": label,
                "secondary": "secondary" in words,
            }
        )
    return entries


def vips_held(entries: Iterable[Mapping[str, Any]], addresses: Iterable[str]) -> dict[str, str]:
    """address -> interface, for each of `addresses` configured on this node."""
    wanted = {str(ipaddress.ip_address(a.strip())): a for a in addresses}
    held: dict[str, str] = {}
    for entry in entries:
        if entry["address"] in wanted:
            held[wanted[entry["address"]]] = entry["interface"]
    return held


def _name_value_pairs(rdns: Iterable[Iterable[tuple[str, str]]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for rdn in rdns:
        for key, value in rdn:
            found.setdefault(key, value)
    return found


def summarize_peercert(cert: Mapping[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """What an operator checks on a server certificate, from ssl's getpeercert() dict.

    Returns subject and issuer common names, the subjectAltName entries as 'DNS:x' / 'IP:x',
    notBefore/notAfter as ISO 8601 UTC, and whole days left before expiry (negative when
    expired). `now` must be timezone-aware.
    """
    not_after = datetime.datetime.fromtimestamp(
        ssl.cert_time_to_seconds(cert["notAfter"]), tz=datetime.UTC
    )
    not_before = datetime.datetime.fromtimestamp(
        ssl.cert_time_to_seconds(cert["notBefore"]), tz=datetime.UTC
    )
    sans = []
    for kind, value in cert.get("subjectAltName", ()):
        prefix = "IP" if kind == "IP Address" else kind
        sans.append(f"{prefix}:{value.strip()}")
    return {
        "subject_cn": _name_value_pairs(cert.get("subject", ())).get("commonName"),
        "issuer_cn": _name_value_pairs(cert.get("issuer", ())).get("commonName"),
        "subject_alt_names": sans,
        "not_before": not_before.isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": (not_after - now).days,
        "serial_number": cert.get("serialNumber"),
    }
