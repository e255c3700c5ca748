"""Pure helpers of the lnet_net module: parse `lnetctl net show` YAML, compare a network with
the wanted interfaces and build the lnetctl commands that reach it (no Ansible, no I/O).

Unit-tested on lnetctl output published by Lustre projects (tests/unit/fixtures/lnet/README.md).
lnetctl names network number 0 without its number (``o2ib`` for ``o2ib0``, ``tcp`` for
``tcp0``); every comparison here goes through :func:`normalize_net`.
"""

from __future__ import annotations

import re
import traceback
from typing import Any

# PyYAML is not in the Python standard library: lnet_net fails with missing_required_lib when
# the host lacks it (python3-yaml), instead of an ImportError traceback.
try:
    import yaml
except ImportError:
    HAS_YAML = False
    YAML_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_YAML = True
    YAML_IMPORT_ERROR = None

_NET = re.compile(r"^(?P<type>[a-z][a-z0-9]*?[a-z])(?P<num>\d*)$")
LNET_DOWN_ERRNO = -100  # lnetctl's "cannot get networks: Network is down"


class LNetError(ValueError):
    """lnetctl output that is not what we expect (the message quotes it)."""


class LNetDown(LNetError):
    """LNet is not configured on this node (lnetctl lnet configure has not run)."""


def normalize_net(name: str) -> str:
    """'o2ib0' -> 'o2ib', 'tcp0' -> 'tcp', 'o2ib1' stays (lnetctl's own spelling)."""
    match = _NET.match(name.strip()) if isinstance(name, str) else None
    if not match:
        raise LNetError(f"{name!r} is not an LNet network name (e.g. o2ib0, tcp0)")
    number = match.group("num")
    return match.group("type") + ("" if number in ("", "0") else str(int(number)))


def parse_net_show(text: str) -> list[dict[str, Any]]:
    """`lnetctl net show [--verbose]` -> [{net, nis: [{nid, status, interfaces}]}].

    Raises LNetDown when lnetctl reports that LNet is not up.
    """
    try:
        data = yaml.safe_load(text or "")
    except yaml.YAMLError as exc:
        raise LNetError(f"lnetctl net show: not YAML ({exc}): {(text or '')[:200]!r}") from exc
    if data is None:
        return []
    if not isinstance(data, dict):
        raise LNetError(f"lnetctl net show: expected a mapping, got {(text or '')[:200]!r}")
    if "show" in data and "net" not in data:
        errors = [e.get("net", {}) for e in data.get("show") or [] if isinstance(e, dict)]
        descr = "; ".join(str(e.get("descr", e)) for e in errors) or str(data)
        if any(e.get("errno") == LNET_DOWN_ERRNO for e in errors):
            raise LNetDown(f"LNet is down: {descr}")
        raise LNetError(f"lnetctl net show failed: {descr}")
    nets = []
    for entry in data.get("net") or []:
        nis = []
        for ni in entry.get("local NI(s)") or []:
            interfaces = ni.get("interfaces") or {}
            if isinstance(interfaces, dict):
                names = [str(interfaces[k]) for k in sorted(interfaces, key=int)]
            else:
                names = [str(i) for i in interfaces]
            nis.append(
                {
                    "nid": str(ni.get("nid", "")),
                    "status": str(ni.get("status", "")),
                    "interfaces": names,
                    "health": (ni.get("health stats") or {}).get("health value"),
                }
            )
        nets.append({"net": str(entry.get("net type", "")), "nis": nis})
    return nets


def find_net(nets: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    wanted = normalize_net(name)
    for net in nets:
        if normalize_net(net["net"]) == wanted:
            return net
    return None


def net_interfaces(net: dict[str, Any] | None) -> list[str]:
    """Every interface of the network's NIs, in order, once."""
    found: list[str] = []
    for ni in (net or {}).get("nis", []):
        for interface in ni["interfaces"]:
            if interface not in found:
                found.append(interface)
    return found


def net_nids(net: dict[str, Any] | None) -> list[str]:
    return [ni["nid"] for ni in (net or {}).get("nis", [])]


def plan(
    nets: list[dict[str, Any]], name: str, interfaces: list[str], state: str
) -> list[list[str]]:
    """lnetctl arguments (without the program) that reach the state; [] when it holds."""
    current = find_net(nets, name)
    if state == "absent":
        return [["net", "del", "--net", name]] if current else []
    if current is None:
        return [["net", "add", "--net", name, "--if", ",".join(interfaces)]]
    have = net_interfaces(current)
    commands = [["net", "add", "--net", name, "--if", i] for i in interfaces if i not in have]
    commands += [["net", "del", "--net", name, "--if", i] for i in have if i not in interfaces]
    return commands


def describe(nets: list[dict[str, Any]]) -> str:
    """One line per network (not lo): 'o2ib: ib0, ib1 (10.0.0.1@o2ib up, ...)'. For diffs."""
    lines = []
    for net in nets:
        if normalize_net(net["net"]) == "lo":
            continue
        nis = ", ".join(f"{ni['nid']} {ni['status']}" for ni in net["nis"])
        lines.append(f"{net['net']}: {', '.join(net_interfaces(net))} ({nis})")
    return "".join(line + "\n" for line in lines)


def predict(
    nets: list[dict[str, Any]], name: str, interfaces: list[str], state: str
) -> list[dict[str, Any]]:
    """The networks expected after plan() ran (check mode's diff)."""
    others = [n for n in nets if normalize_net(n["net"]) != normalize_net(name)]
    if state == "absent":
        return others
    nis = [{"nid": "?@" + normalize_net(name), "status": "up", "interfaces": interfaces}]
    return [*others, {"net": normalize_net(name), "nis": nis}]
