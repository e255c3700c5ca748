"""Pure parsers of `ibstat` and `ibv_devinfo` output for the ib_facts module (no Ansible, no
I/O). Unit-tested on published tool output (tests/unit/fixtures/infiniband/README.md).

Both tools print one block per HCA with 'key: value' lines and nested port blocks; the parsers
key devices by name and ports by number, with snake_case keys.
"""

from __future__ import annotations

import re
from typing import Any

# ibstat keys -> our names (anything else is kept as snake_case).
_IBSTAT_KEYS = {
    "ca_type": "ca_type",
    "number_of_ports": "port_count",
    "firmware_version": "fw_ver",
    "hardware_version": "hw_ver",
    "node_guid": "node_guid",
    "system_image_guid": "sys_image_guid",
    "physical_state": "physical_state",
    "base_lid": "base_lid",
    "sm_lid": "sm_lid",
    "lmc": "lmc",
    "port_guid": "port_guid",
    "link_layer": "link_layer",
    "capability_mask": "capability_mask",
}
_INT_KEYS = {"port_count", "rate", "base_lid", "sm_lid", "lmc", "port_lid", "phys_port_cnt"}


class InfinibandParseError(ValueError):
    """Tool output that is not what we expect (the message quotes it)."""


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def _value(key: str, raw: str) -> Any:
    value = raw.strip()
    if value in ("", "..."):
        return None  # redacted or empty
    if key in _INT_KEYS:
        match = re.match(r"^(\d+)", value)
        return int(match.group(1)) if match else value
    return value


def parse_ibstat(text: str) -> dict[str, dict[str, Any]]:
    """`ibstat`: {device: {ca_type, fw_ver, node_guid, ..., ports: {1: {state, physical_state,
    rate, base_lid, sm_lid, port_guid, link_layer}}}}. Empty output: no device."""
    devices: dict[str, dict[str, Any]] = {}
    device: dict[str, Any] | None = None
    port: dict[str, Any] | None = None
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        ca = re.match(r"^CA:?\s+'([^']+)'\s*$", line.strip())
        if ca:
            device = devices.setdefault(ca.group(1), {"ports": {}})
            port = None
            continue
        if device is None:
            raise InfinibandParseError(f"ibstat: line before any CA block: {line!r}")
        numbered = re.match(r"^Port\s+(\d+):\s*$", line.strip())
        if numbered:
            port = device["ports"].setdefault(int(numbered.group(1)), {})
            continue
        name, sep, raw = line.partition(":")
        if not sep:
            raise InfinibandParseError(f"ibstat: unexpected line {line!r}")
        key = _IBSTAT_KEYS.get(_key(name), _key(name))
        (port if port is not None else device)[key] = _value(key, raw)
    return devices


def parse_ibv_devinfo(text: str) -> dict[str, dict[str, Any]]:
    """`ibv_devinfo`: {device: {transport, fw_ver, node_guid, board_id, ..., ports: {1: {state,
    active_mtu, max_mtu, sm_lid, port_lid, link_layer}}}}. States keep the name only
    (PORT_ACTIVE), MTUs the byte count."""
    devices: dict[str, dict[str, Any]] = {}
    device: dict[str, Any] | None = None
    port: dict[str, Any] | None = None
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, sep, raw = line.strip().partition(":")
        if not sep:
            raise InfinibandParseError(f"ibv_devinfo: unexpected line {line!r}")
        key = _key(name)
        if key == "hca_id":
            device = devices.setdefault(raw.strip(), {"ports": {}})
            port = None
            continue
        if device is None:
            raise InfinibandParseError(f"ibv_devinfo: line before any hca_id: {line!r}")
        if key == "port":
            port = device["ports"].setdefault(int(raw.strip()), {})
            continue
        value = _value(key, raw)
        if key in ("state", "max_mtu", "active_mtu", "transport") and isinstance(value, str):
            value = value.split(" (")[0]
            if key.endswith("mtu") and value.isdigit():
                value = int(value)
        (port if port is not None else device)[key] = value
    return devices


def merge(ibstat: dict[str, Any], devinfo: dict[str, Any]) -> dict[str, Any]:
    """ibstat's view, completed with what only ibv_devinfo says (board_id, MTUs...)."""
    merged: dict[str, Any] = {}
    for name in list(ibstat) + [n for n in devinfo if n not in ibstat]:
        base = dict(ibstat.get(name, {"ports": {}}))
        extra = devinfo.get(name, {})
        ports: dict[int, dict[str, Any]] = {}
        for number in sorted(set(base.get("ports", {})) | set(extra.get("ports", {}))):
            port = dict(extra.get("ports", {}).get(number, {}))
            if "state" in port:
                port["verbs_state"] = port.pop("state")
            port.update(base.get("ports", {}).get(number, {}))
            ports[number] = port
        for key, value in extra.items():
            if key != "ports" and base.get(key) is None:
                base[key] = value
        base["ports"] = ports
        merged[name] = base
    return merged


def port_problems(
    devices: dict[str, Any], min_rate: int = 0, link_layer: str = "InfiniBand"
) -> list[str]:
    """Every port of the given link layer that is not Active/LinkUp at min_rate or more."""
    problems = []
    for name, device in sorted(devices.items()):
        for number, port in sorted(device.get("ports", {}).items()):
            if port.get("link_layer", link_layer) != link_layer:
                continue
            where = f"{name} port {number}"
            if port.get("state") != "Active" or port.get("physical_state") != "LinkUp":
                problems.append(
                    f"{where} is {port.get('state')}/{port.get('physical_state')} "
                    "(expected Active/LinkUp): check the cable, the switch port and that a "
                    "subnet manager runs (opensm)"
                )
            elif min_rate and isinstance(port.get("rate"), int) and port["rate"] < min_rate:
                problems.append(
                    f"{where} runs at {port['rate']} Gb/s, below {min_rate}: check the cable "
                    "and the switch port speed"
                )
    return problems
