"""The host firewall's checks (roles/firewall; its rules are derived by
plugins/filter/firewall.py; tests/unit/plugins/module_utils/test_inventory_firewall.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import inventory_core as core
from .inventory_core import InventoryModel

# The host firewall's settings check_firewall reads (group_vars/all/firewall.yml). Their
# defaults are the firewall role's (ROLE_DEFAULTS, inventory_model.py).
FIREWALL_SETTINGS: tuple[str, ...] = (
    "firewall_enabled",
    "jovial_admin_networks",
    "firewall_services",
)


# Host firewall (roles/firewall; rules derived by plugins/filter/firewall.py)

FIREWALL_PROTOCOLS: tuple[str, ...] = ("tcp", "udp", "vrrp")
# Words a firewall_services source may be besides groups, hosts and CIDRs.
FIREWALL_SOURCE_WORDS: tuple[str, ...] = ("any", "peers")
# Variables a firewall_services source may name (they hold a CIDR or a list of CIDRs).
FIREWALL_SOURCE_VARIABLES: tuple[str, ...] = (
    "kubernetes_pod_subnet",
    "kubernetes_service_subnet",
)


def _firewall_names(model: InventoryModel) -> set[str]:
    """Groups and hosts a firewall entry may name: every managed group (defined here or not),
    every group and host of this inventory."""
    names = set(core.MANAGED_GROUPS) | set(model.groups)
    for members in model.groups.values():
        names.update(members)
    return names


def _firewall_entry(
    index: int, entry: Any, names: set[str], seen: set[str], problems: list[str]
) -> None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        problems.append(
            f"firewall_services[{index}] is {core.show(entry)}; each entry is a mapping with name, "
            "proto, ports, served_by and from (see roles/firewall/defaults/main.yml)"
        )
        return
    name = entry["name"]
    label = f"firewall_services[{name}]"
    if name in seen:
        problems.append(f"{label} is declared twice; keep one entry per service")
    seen.add(name)
    proto = entry.get("proto", "tcp")
    if proto not in FIREWALL_PROTOCOLS:
        problems.append(
            f"{label}: proto {core.show(proto)} is not one of {', '.join(FIREWALL_PROTOCOLS)}; "
            "use tcp, udp, or vrrp (IP protocol 112)"
        )
    ports = entry.get("ports", [])
    if not isinstance(ports, list):
        problems.append(f"{label}: ports {core.show(ports)} is not a list; write ports: [443]")
        ports = []
    if proto == "vrrp" and ports:
        problems.append(f"{label}: vrrp has no ports (IP protocol 112); use ports: []")
    for port in ports:
        if isinstance(port, str) and core._IDENTIFIER.match(port):
            continue  # a layer's port variable, resolved on the node (plugins/filter/firewall.py)
        if not core._is_int(port) or not 1 <= port <= 65535:
            problems.append(
                f"{label}: port {core.show(port)} is not a port number from 1 to 65535 nor a port "
                "variable's name (e.g. etcd_client_port)"
            )
    for key in ("served_by", "from"):
        items = entry.get(key)
        if not isinstance(items, list):
            problems.append(
                f"{label}: {key} {core.show(items)} is not a list of groups"
                + (", hosts, CIDRs, any or peers" if key == "from" else " or hosts")
            )
            continue
        for item in items:
            if isinstance(item, str) and item in names:
                continue
            if key == "from" and isinstance(item, str):
                if item in FIREWALL_SOURCE_WORDS or item in FIREWALL_SOURCE_VARIABLES:
                    continue
                if not isinstance(core._parse_network(item if "/" in item else item + "/32"), str):
                    continue
            problems.append(
                f"{label}: {key} entry {core.show(item)} is not "
                + (
                    "a group or host of the inventory; name a group (e.g. etcd) or a host"
                    if key == "served_by"
                    else "a group or host of the inventory, a network like 10.10.0.0/24, "
                    f"{', '.join(FIREWALL_SOURCE_VARIABLES)}, any or peers"
                )
            )


def check_firewall(model: InventoryModel) -> list[str]:
    """The host firewall's switch, the admin networks SSH is open to, and the declared services
    (their shape and names; the ports and sources are resolved on each node by the role).

    Unset variables take the firewall role's defaults (ROLE_DEFAULTS), as the role would.
    """
    problems: list[str] = []
    site = model.site
    enabled = site.get("firewall_enabled")
    if "firewall_enabled" in site and not isinstance(enabled, bool):
        problems.append(
            f"firewall_enabled is {core.show(enabled)}, not a boolean; write true or false"
        )
    networks = site.get("jovial_admin_networks")
    if "jovial_admin_networks" not in model.unresolved and "jovial_admin_networks" in site:
        if not isinstance(networks, list):
            problems.append(
                f"jovial_admin_networks is {core.show(networks)}, not a list of networks; write "
                "e.g. [10.10.250.0/24]"
            )
        else:
            for cidr in networks:
                parsed = core._parse_network(cidr)
                if isinstance(parsed, str):
                    problems.append(f"jovial_admin_networks entry {core.show(cidr)} {parsed}")
                elif parsed.prefixlen == 0:
                    problems.append(
                        f"jovial_admin_networks entry {core.show(cidr)} opens SSH to every "
                        "address; list the operators' networks (the control node is always "
                        "admitted)"
                    )
    services = site.get("firewall_services")
    if "firewall_services" not in model.unresolved and "firewall_services" in site:
        if not isinstance(services, list):
            problems.append(
                f"firewall_services is {core.show(services)}, not a list of services; see "
                "roles/firewall/defaults/main.yml"
            )
        else:
            names = _firewall_names(model)
            seen: set[str] = set()
            for index, entry in enumerate(services):
                _firewall_entry(index, entry, names, seen, problems)
    return problems
