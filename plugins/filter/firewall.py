"""Filters for the host firewall (roles/firewall): who may reach what, derived once.

``jovial_firewall_rules`` turns the declared services (``firewall_services``: each entry a name,
a protocol, ports, the groups whose hosts serve it and who may reach it) into the inbound
rules of one host, from the inventory's group membership and each host's ``jovial_address``.
The role renders them into one nftables table; nothing else computes who may reach a port.

``jovial_firewall_admits`` answers whether a host's rules let an address reach a port; the
role asks it about the control node's own SSH connection before it writes any rule.

An entry (roles/firewall/defaults/main.yml documents them)::

    {name: etcd-client, proto: tcp, ports: [etcd_client_port],
     served_by: [etcd], from: [etcd, kube_control_plane]}

- ``ports``: numbers, or the names of the layers' port variables. A name takes the
  inventory's value for the host, else the default of the role its prefix names
  (``etcd_client_port`` -> roles/etcd/defaults/main.yml), so no port number is restated.
- ``proto``: tcp, udp or vrrp (IP protocol 112, no ports).
- ``served_by``: groups (or inventory hostnames) whose hosts serve it.
- ``from``: groups or hostnames (their jovial_address), addresses or CIDRs, the names of
  variables holding a CIDR or a list of them (``kubernetes_pod_subnet``), ``any``, or
  ``peers`` (the hosts that share a ``served_by`` group with the host: its pair, its quorum).
  A group this inventory does not define has no hosts (the validator refuses unknown names).

Unit-tested on the sample inventory in tests/unit/plugins/filter/test_firewall.py.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from ansible.errors import AnsibleFilterError

PROTOCOLS = ("tcp", "udp", "vrrp")
ANY = "any"
PEERS = "peers"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# The roles whose defaults a port or source variable may come from: plugins/filter/../../roles.
_ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _role_defaults(role: str, roles_dir: Path) -> Mapping[str, Any]:
    path = roles_dir / role / "defaults" / "main.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, Mapping) else {}


def role_default(name: str, roles_dir: Path = _ROLES_DIR) -> Any:
    """The default of variable ``name`` in the role its prefix names (the longest role name
    that ``name`` starts with, then ``_``); KeyError when no role declares it."""
    roles = sorted(
        (p.name for p in roles_dir.iterdir() if name.startswith(p.name + "_")),
        key=len,
        reverse=True,
    )
    for role in roles:
        defaults = _role_defaults(role, roles_dir)
        if name in defaults:
            return defaults[name]
    raise KeyError(name)


def _variable(name: str, host_vars: Mapping[str, Any], roles_dir: Path) -> Any:
    if name in host_vars:
        return host_vars[name]
    return role_default(name, roles_dir)


def _port(entry: str, item: Any, host_vars: Mapping[str, Any], roles_dir: Path) -> int:
    value = item
    if isinstance(item, str) and _IDENTIFIER.match(item):
        try:
            value = _variable(item, host_vars, roles_dir)
        except KeyError:
            raise AnsibleFilterError(
                f"firewall_services[{entry}]: port {item!r} is not a number nor a variable set "
                "in the inventory or a role's defaults; give the port number or the layer's "
                "port variable (e.g. etcd_client_port)"
            ) from None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise AnsibleFilterError(
            f"firewall_services[{entry}]: port {item!r} is {value!r}, not a port number from 1 "
            "to 65535; fix the entry or the variable it names"
        )
    return value


def _network(text: Any) -> Network | None:
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _address(host: str, hostvars: Mapping[str, Any]) -> Network:
    host_vars = hostvars.get(host) or {}
    address = host_vars.get("jovial_address") if isinstance(host_vars, Mapping) else None
    network = _network(address)
    if network is None or network.num_addresses != 1:
        raise AnsibleFilterError(
            f"host {host}: jovial_address {address!r} is not an IP address; every host a "
            "firewall rule names needs its jovial_address in the inventory"
        )
    return network


def _members(name: str, groups: Mapping[str, Sequence[str]]) -> list[str] | None:
    """Hosts named by a group or an inventory hostname; None when it names neither."""
    if name in groups:
        return list(groups[name])
    if name in groups.get("all", ()):
        return [name]
    return None


def _serves(host: str, served_by: Sequence[str], groups: Mapping[str, Sequence[str]]) -> bool:
    return any(host in (_members(name, groups) or ()) for name in served_by)


def _sources(
    entry: str,
    host: str,
    spec: Mapping[str, Any],
    groups: Mapping[str, Sequence[str]],
    hostvars: Mapping[str, Any],
    roles_dir: Path,
) -> tuple[bool, list[Network]]:
    nets: list[Network] = []
    allowed_any = False
    for item in _as_list(entry, "from", spec.get("from")):
        if item == ANY:
            allowed_any = True
            continue
        if item == PEERS:
            for name in _as_list(entry, "served_by", spec.get("served_by")):
                members = _members(name, groups) or []
                if host in members:
                    nets.extend(_address(peer, hostvars) for peer in members)
            continue
        members = _members(item, groups) if isinstance(item, str) else None
        if members is not None:
            nets.extend(_address(member, hostvars) for member in members)
            continue
        network = _network(item)
        if network is not None:
            nets.append(network)
            continue
        if isinstance(item, str) and _IDENTIFIER.match(item):
            try:
                value = _variable(item, hostvars.get(host) or {}, roles_dir)
            except KeyError:
                continue  # a group this inventory does not define: no hosts
            for text in [value] if isinstance(value, str) else _as_list(entry, item, value):
                network = _network(text)
                if network is None:
                    raise AnsibleFilterError(
                        f"firewall_services[{entry}]: {item} holds {text!r}, not an address "
                        "or CIDR; fix the variable or name a group instead"
                    )
                nets.append(network)
            continue
        raise AnsibleFilterError(
            f"firewall_services[{entry}]: source {item!r} is not a group, a host, an address "
            "or CIDR, a variable holding CIDRs, 'any' or 'peers'; fix the entry's from list"
        )
    return allowed_any, nets


def _as_list(entry: str, key: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise AnsibleFilterError(
            f"firewall_services[{entry}]: {key} is {value!r}, not a list; write it as a YAML list"
        )
    return list(value)


def _collapse(nets: list[Network], version: int) -> list[str]:
    same = [n for n in nets if n.version == version]
    return [str(n) for n in ipaddress.collapse_addresses(same)] if same else []  # type: ignore[arg-type]


def jovial_firewall_rules(
    services: Any,
    host: str,
    groups: Mapping[str, Sequence[str]],
    hostvars: Mapping[str, Any],
    roles_dir: str | None = None,
) -> list[dict[str, Any]]:
    """The inbound rules of ``host``: one per service it serves, in the declared order, each
    ``{name, proto, ports, any, ipv4, ipv6}`` (sources collapsed and sorted; a rule with no
    source admits nothing and is kept so the rendered file says why)."""
    where = Path(roles_dir) if roles_dir else _ROLES_DIR
    if isinstance(services, str) or not isinstance(services, Sequence):
        raise AnsibleFilterError(
            f"firewall_services is {services!r}, not a list of services; see "
            "roles/firewall/defaults/main.yml"
        )
    host_vars = hostvars.get(host) or {}
    rules: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, spec in enumerate(services):
        if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
            raise AnsibleFilterError(
                f"firewall_services[{index}] is {spec!r}; each entry needs a name, proto, "
                "ports, served_by and from"
            )
        name = spec["name"]
        if name in seen:
            raise AnsibleFilterError(
                f"firewall_services: {name!r} is declared twice; give each service one entry"
            )
        seen.add(name)
        proto = spec.get("proto", "tcp")
        if proto not in PROTOCOLS:
            raise AnsibleFilterError(
                f"firewall_services[{name}]: proto {proto!r} is not one of {', '.join(PROTOCOLS)}"
            )
        if not _serves(host, _as_list(name, "served_by", spec.get("served_by")), groups):
            continue
        raw_ports = _as_list(name, "ports", spec.get("ports"))
        if proto == "vrrp" and raw_ports:
            raise AnsibleFilterError(
                f"firewall_services[{name}]: vrrp has no ports (it is IP protocol 112); "
                "remove ports"
            )
        if proto != "vrrp" and not raw_ports:
            continue  # nothing to serve in this inventory (e.g. no hubs on Kubernetes)
        ports = sorted({_port(name, p, host_vars, where) for p in raw_ports})
        allowed_any, nets = _sources(name, host, spec, groups, hostvars, where)
        rules.append(
            {
                "name": name,
                "proto": proto,
                "ports": ports,
                "any": allowed_any,
                "ipv4": [] if allowed_any else _collapse(nets, 4),
                "ipv6": [] if allowed_any else _collapse(nets, 6),
            }
        )
    return rules


def jovial_firewall_admits(rules: Any, address: str, port: Any, proto: str = "tcp") -> bool:
    """Whether ``rules`` (from jovial_firewall_rules) let ``address`` reach ``port``/``proto``."""
    source = _network(address)
    if source is None:
        raise AnsibleFilterError(f"jovial_firewall_admits: {address!r} is not an IP address")
    port = int(port)
    for rule in rules or []:
        if rule["proto"] != proto or (proto != "vrrp" and port not in rule["ports"]):
            continue
        if rule["any"]:
            return True
        for text in rule["ipv4"] + rule["ipv6"]:
            network = ipaddress.ip_network(text)
            if network.version == source.version and source.subnet_of(network):  # type: ignore[arg-type]
                return True
    return False


def jovial_var(name: str, host_vars: Mapping[str, Any]) -> Any:
    """Variable ``name`` as a host sees it outside the role that declares it: its inventory
    value (``host_vars``, e.g. ``hostvars[host]``), else the default of the role its prefix
    names (``jupyterhub_hub_port`` -> roles/jupyterhub/defaults/main.yml). One declaration of a
    default, read by the other layers that need the value."""
    try:
        return _variable(name, host_vars, _ROLES_DIR)
    except KeyError:
        raise AnsibleFilterError(
            f"jovial_var: {name!r} is neither set for the host nor declared in the defaults of "
            "the role its prefix names; declare it in that role's defaults/main.yml"
        ) from None


def jovial_group_cidrs(
    names: Any,
    groups: Mapping[str, Sequence[str]],
    hostvars: Mapping[str, Any],
    vips: Any = (),
    vip_names: Any = (),
) -> list[str]:
    """The single-address CIDRs (``/32``, ``/128``) of every host of ``names`` (groups or
    inventory hostnames, as a firewall rule's ``from``; a group the inventory lacks adds
    nothing), then of the ``jovial_vips`` entries named in ``vip_names``, each once, in that
    order: how
    other layers (the hubs' NetworkPolicies) name a group's machines, derived the way the host
    firewall derives them."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise AnsibleFilterError(f"jovial_group_cidrs wants a list of group names, got {names!r}")
    found: dict[Network, None] = {}
    for name in names:
        for host in _members(str(name), groups) or ():
            found[_address(host, hostvars)] = None
    wanted = {str(n) for n in vip_names or ()}
    for vip in vips or ():
        if isinstance(vip, Mapping) and vip.get("name") in wanted:
            network = _network(vip.get("address"))
            if network is None or network.num_addresses != 1:
                raise AnsibleFilterError(
                    f"jovial_vips[{vip.get('name')}]: address {vip.get('address')!r} is not an "
                    "IP address"
                )
            found[network] = None
    return [str(n) for n in found]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "jovial_group_cidrs": jovial_group_cidrs,
            "jovial_var": jovial_var,
            "jovial_firewall_rules": jovial_firewall_rules,
            "jovial_firewall_admits": jovial_firewall_admits,
        }
