"""The inventory model and the checks every site needs (docs/inventory.md).

The model (InventoryModel), the small helpers every layer's checks share (show, join_and,
_group, valid_networks ...), which layers an inventory configures, and the whole-site checks:
the site's names and networks, host names and addresses, the VIPs, the required secrets and the
uid/gid ranges (tests/unit/plugins/module_utils/test_inventory_model.py). The layers' checks are
the other inventory_*.py modules; inventory_model.py lists them all.

Everything here works on plain Python data and imports nothing from Ansible. A checker never
raises on bad input: a wrong type is a problem like any other. Values shown in messages are the
ones the operator wrote; the values of secrets are never shown.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

# Groups whose hosts Jovial configures (docs/inventory.md, "Groups").
MANAGED_GROUPS: tuple[str, ...] = (
    "etcd",
    "kube_control_plane",
    "kube_node",
    "ldap_server",
    "proxy",
    "jupyterhub",
    "dask_gateway",
    "lustre_mgs",
    "lustre_mds",
    "lustre_oss",
    "lustre_client",
    "infiniband",
    "opensm",
    "backup_store",
)

ID_RANGE_FLOOR = 1000  # below: system accounts (Debian's SYS_UID_MAX is 999)
ID_RANGE_CEILING = 2**31  # ids must stay below it (signed 32-bit in many tools)
ID_NOBODY = 65534  # nobody / nogroup, and the NFS/Lustre squash id

_DNS_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_SITE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SHOW_LIMIT = 60


@dataclass(frozen=True)
class InventoryModel:
    """What the checks see of one inventory.

    groups: group name -> inventory hostnames (as in Ansible's ``groups``).
    hosts: managed hostname -> its variables (only HOST_VARIABLES are needed; a missing key
        means the variable is not set for that host).
    site: site variable name -> value (a missing key means not set).
    secrets: vault_* name -> value, for the defined variables named in jovial_required_secrets.
    unresolved: a variable that is set but could not be templated -> why. Keys are a site or
        secret variable name, or ``"<host>:<variable>"`` for a host variable. Each gets one
        problem, and the checkers skip it instead of calling it missing.
    """

    groups: Mapping[str, Sequence[str]]
    hosts: Mapping[str, Mapping[str, Any]]
    site: Mapping[str, Any]
    secrets: Mapping[str, Any] = field(default_factory=dict)
    unresolved: Mapping[str, str] = field(default_factory=dict)


Checker = Callable[[InventoryModel], list[str]]


# Small helpers


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, Sequence):
        return "a list"
    return f"a {type(value).__name__}"


def show(value: Any) -> str:
    """The value as the operator wrote it: strings quoted, long values shortened."""
    if isinstance(value, str):
        text = value if len(value) <= _SHOW_LIMIT else value[: _SHOW_LIMIT - 3] + "..."
        return "'" + text.replace("'", "\\'") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    text = str(value)
    return text if len(text) <= _SHOW_LIMIT else text[: _SHOW_LIMIT - 3] + "..."


def _got(value: Any) -> str:
    """'got a string ('x')' for type errors."""
    if value is None:
        return "got nothing (null)"
    return f"got {_type_name(value)} ({show(value)})"


def join_and(items: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    names = list(items)
    if not names:
        return "(none)"
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _hosts_word(count: int) -> str:
    return "1 host" if count == 1 else f"{count} hosts"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _group(model: InventoryModel, name: str) -> list[str]:
    members = model.groups.get(name)
    if not _is_list(members):
        return []
    return [h for h in members if isinstance(h, str)]


def inventory_hosts(model: InventoryModel) -> set[str]:
    """Every hostname in the inventory (all groups)."""
    found: set[str] = set()
    for name in model.groups:
        found.update(_group(model, name))
    return found


def managed_hosts(model: InventoryModel) -> list[str]:
    """Hosts in at least one managed group, sorted."""
    found: set[str] = set()
    for name in MANAGED_GROUPS:
        found.update(_group(model, name))
    return sorted(found)


def _parse_address(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


# Quoted: `A | B` of two classes is evaluated at import, which Python before 3.10 cannot do
# (ansible-test checks module_utils for the oldest Python a managed host may run).
Network: TypeAlias = "ipaddress.IPv4Network | ipaddress.IPv6Network"


def valid_networks(model: InventoryModel) -> dict[str, Network]:
    """jovial_networks by name, or {} unless every entry is well-formed.

    Checks that need the networks (host addresses, VIPs) skip them while any entry is broken:
    check_site / check_networks already report it, and one broken network would otherwise also
    make every address on it look wrong.
    """
    value = model.site.get("jovial_networks")
    if "jovial_networks" in model.unresolved or not _is_list(value):
        return {}
    networks: dict[str, Network] = {}
    for item in value:
        if not isinstance(item, Mapping):
            return {}
        name = item.get("name")
        parsed = _parse_network(item.get("cidr"))
        if not isinstance(name, str) or not name.strip() or name in networks:
            return {}
        if not isinstance(parsed, ipaddress.IPv4Network | ipaddress.IPv6Network):
            return {}
        networks[name] = parsed
    return networks


def _parse_network(cidr: Any) -> Network | str:
    """The network, or why cidr is not one (a sentence fragment)."""
    if not isinstance(cidr, str) or "/" not in cidr:
        return "is not a network in address/prefix form (e.g. 10.77.0.0/24)"
    try:
        return ipaddress.ip_network(cidr.strip(), strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return "is not a network in address/prefix form (e.g. 10.77.0.0/24)"
    return f"has host bits set; use {loose}"


def _networks_text(networks: Mapping[str, Network]) -> str:
    return ", ".join(f"{name} {net}" for name, net in networks.items())


def _reserved_role(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, network: Network
) -> str | None:
    """'network' or 'broadcast' when address is one of the network's reserved addresses."""
    if network.version == 4 and network.prefixlen <= 30:
        if address == network.network_address:
            return "network"
        if address == network.broadcast_address:
            return "broadcast"
    if network.version == 6 and network.prefixlen <= 126 and address == network.network_address:
        return "network"
    return None


def _item_label(variable: str, position: int, name: Any) -> str:
    """jovial_vips[proxy] when the item has a usable name, else jovial_vips[1] (0-based)."""
    if isinstance(name, str) and name.strip():
        return f"{variable}[{name}]"
    return f"{variable}[{position}]"


def _duplicates(pairs: Iterable[tuple[Any, str]]) -> dict[Any, list[str]]:
    """key -> the labels sharing it, only for keys seen more than once (first-seen order)."""
    seen: dict[Any, list[str]] = {}
    for key, label in pairs:
        seen.setdefault(key, []).append(label)
    return {key: labels for key, labels in seen.items() if len(labels) > 1}


# Checkers, one per concern


def check_unresolved(model: InventoryModel) -> list[str]:
    """Site and host variables that are set but could not be templated (secrets: see
    check_secrets)."""
    problems = []
    for ref, reason in sorted(model.unresolved.items()):
        if ":" in ref:
            host, variable = ref.split(":", 1)
            problems.append(
                f"host {host}: {variable} could not be templated ({reason}); "
                "fix its value in hosts.yml or host_vars"
            )
        elif ref.startswith("vault_"):
            continue  # reported by check_secrets, with the other secret problems
        else:
            problems.append(
                f"{ref} could not be templated ({reason}); fix its value in group_vars/all"
            )
    return problems


def check_groups(model: InventoryModel) -> list[str]:
    """At least one host is in a managed group (else -i probably points at the wrong place).

    Only for a whole-site run (site.yml: WHOLE_SITE_CHECKERS): a layer playbook's inventory may
    hold only the hosts of that layer, or (the common layer) hosts in no layer group at all."""
    if managed_hosts(model):
        return []
    return [
        f"inventory: no host is in any of the groups {', '.join(MANAGED_GROUPS)}; "
        "check that -i points at inventories/<site> and that hosts.yml parses"
    ]


def check_site(model: InventoryModel) -> list[str]:
    """jovial_site, jovial_domain and jovial_networks are set and well-formed."""
    problems = []
    site = model.site

    if "jovial_site" not in model.unresolved:
        value = site.get("jovial_site")
        if value is None:
            problems.append(
                "jovial_site is not set; set it in group_vars/all/site.yml "
                "to the site's short lowercase name (e.g. obs)"
            )
        elif not isinstance(value, str) or not _SITE_NAME.match(value):
            problems.append(
                f"jovial_site {show(value)} is not a short lowercase name; use up to 32 "
                "lowercase letters, digits and '-', starting with a letter (e.g. obs)"
            )

    if "jovial_domain" not in model.unresolved:
        value = site.get("jovial_domain")
        if value is None:
            problems.append(
                "jovial_domain is not set; set it in group_vars/all/site.yml "
                "to the nodes' DNS domain (e.g. obs.example.org)"
            )
        elif (
            not isinstance(value, str)
            or len(value) > 253
            or not all(_DNS_LABEL.match(label) for label in value.split("."))
        ):
            problems.append(
                f"jovial_domain {show(value)} is not a DNS domain; use dot-separated labels "
                "of letters, digits and '-' (e.g. obs.example.org)"
            )

    if "jovial_networks" not in model.unresolved:
        value = site.get("jovial_networks")
        example = "[{name: mgmt, cidr: 10.77.0.0/24}]"
        if value is None:
            problems.append(
                "jovial_networks is not set; list the site's networks in "
                f"group_vars/all/site.yml, e.g. {example}"
            )
        elif not _is_list(value):
            problems.append(
                f"jovial_networks: expected a list of {{name, cidr}}, {_got(value)}; "
                f"write it as e.g. {example}"
            )
        elif not value:
            problems.append(f"jovial_networks is empty; list the site's networks, e.g. {example}")
    return problems


def check_networks(model: InventoryModel) -> list[str]:
    """Each jovial_networks entry has a unique name and a valid CIDR; networks don't overlap."""
    value = model.site.get("jovial_networks")
    if "jovial_networks" in model.unresolved or not _is_list(value):
        return []  # missing or wrong type: reported by check_site
    problems = []
    names: list[tuple[str, str]] = []
    parsed: list[tuple[str, Network]] = []
    for position, item in enumerate(value):
        if not isinstance(item, Mapping):
            problems.append(
                f"jovial_networks[{position}]: expected a mapping {{name, cidr}}, {_got(item)}"
            )
            continue
        name = item.get("name")
        label = _item_label("jovial_networks", position, name)
        if not isinstance(name, str) or not name.strip():
            problems.append(
                f"{label}: name {show(name)} is not a name; "
                "give each network a unique name (e.g. mgmt)"
            )
        else:
            names.append((name, label))
        network = _parse_network(item.get("cidr"))
        if isinstance(network, str):
            problems.append(f"{label}: cidr {show(item.get('cidr'))} {network}")
        else:
            parsed.append((label, network))

    for name, labels in _duplicates(names).items():
        problems.append(
            f"jovial_networks: name '{name}' is used by {len(labels)} networks; "
            "give each network a unique name"
        )
    for i, (label_a, net_a) in enumerate(parsed):
        for label_b, net_b in parsed[i + 1 :]:
            if net_a.version == net_b.version and net_a.overlaps(net_b):
                problems.append(
                    f"{label_b}: cidr {net_b} overlaps {label_a} ({net_a}); "
                    "networks must not overlap"
                )
    return problems


def check_hostnames(model: InventoryModel) -> list[str]:
    """Managed hostnames are DNS names and their short names (before the first dot) unique."""
    problems = []
    shorts: list[tuple[str, str]] = []
    for host in managed_hosts(model):
        if _parse_address(host) is not None:
            problems.append(
                f"host {host}: the inventory hostname is an address; name the host "
                f"(e.g. node01) and set jovial_address: {host}"
            )
            continue
        bad = [label for label in host.split(".") if not _DNS_LABEL.match(label)]
        if bad:
            problems.append(
                f"host {host}: {show(bad[0])} is not a valid DNS label (letters, digits and '-', "
                "1-63 characters, not starting or ending with '-'); rename the host"
            )
            continue
        shorts.append((host.split(".", 1)[0].lower(), host))
    for short, hosts in _duplicates(shorts).items():
        problems.append(
            f"hosts {join_and(hosts)} share the short hostname {short}; give each host its own name"
        )
    return problems


# Hosts whose roles write backups that common_backup_stores keeps copies of.
BACKUP_GROUPS: tuple[str, ...] = ("etcd", "ldap_server", "jupyterhub")


def check_backup_stores(model: InventoryModel) -> list[str]:
    """common_backup_stores (the hosts that keep the other nodes' backups) is a list of managed
    hosts; a store that also has backups of its own needs another store to copy them to."""
    if "common_backup_stores" in model.unresolved:
        return []
    stores = model.site.get("common_backup_stores")
    if stores is None:  # not set and no role default read: nothing to check
        return []
    fix = (
        "set it to the hosts that keep the other nodes' backups, e.g. "
        "common_backup_stores: \"{{ groups['backup_store'] | default([]) }}\" with the store in "
        "group backup_store, or [] to keep backups on their nodes only"
    )
    if not _is_list(stores) or not all(isinstance(name, str) for name in stores):
        return [f"common_backup_stores is {show(stores)}, not a list of hostnames; {fix}"]
    managed = managed_hosts(model)
    problems = [
        f"common_backup_stores names {name}, which is not a host of a Jovial group; add {name} "
        "to group backup_store in hosts.yml, or remove it from common_backup_stores"
        for name in stores
        if name not in managed
    ]
    # Which backups each host writes: its groups', and the Kubernetes hubs' databases on
    # jupyterhub_k8s_hub_db_node.
    kinds: dict[str, list[str]] = {}
    for group in BACKUP_GROUPS:
        for host in _group(model, group):
            kinds.setdefault(host, []).append(group)
    db_node = model.site.get("jupyterhub_k8s_hub_db_node")
    if isinstance(db_node, str) and db_node and model.site.get("jupyterhub_hubs"):
        kinds.setdefault(db_node, []).append("jupyterhub_k8s_hub_db_node")
    if len(set(stores)) == 1 and stores[0] in kinds:
        problems.append(
            f"common_backup_stores is only {stores[0]}, which has backups of its own "
            f"({join_and(sorted(kinds[stores[0]]))}): "
            "they would have no copy off the node; add a second store host (each store copies "
            "its own backups to the other)"
        )
    return problems


def check_addresses(model: InventoryModel) -> list[str]:
    """Each managed host has a valid, unique jovial_address inside one of jovial_networks."""
    problems = []
    networks = valid_networks(model)
    seen: list[tuple[Any, str]] = []
    for host in managed_hosts(model):
        if f"{host}:jovial_address" in model.unresolved:
            continue
        host_vars = model.hosts.get(host, {})
        value = host_vars.get("jovial_address") if isinstance(host_vars, Mapping) else None
        if value is None:
            problems.append(
                f"host {host}: jovial_address is not set; set it in hosts.yml "
                "to the node's address on the management network"
            )
            continue
        address = _parse_address(value)
        if address is None:
            problems.append(
                f"host {host}: jovial_address {show(value)} is not a valid IP address; "
                "fix it in hosts.yml"
            )
            continue
        seen.append((address, host))
        if not networks:
            continue  # no usable network: reported by check_site / check_networks
        inside = [(name, net) for name, net in networks.items() if address in net]
        if not inside:
            problems.append(
                f"host {host}: jovial_address {show(value)} is not inside any network in "
                f"jovial_networks ({_networks_text(networks)}); "
                "fix the address or add its network"
            )
            continue
        name, net = inside[0]
        role = _reserved_role(address, net)
        if role:
            problems.append(
                f"host {host}: jovial_address {show(value)} is the {role} address of "
                f"{name} ({net}); use a host address inside it"
            )
    for address, hosts in _duplicates(seen).items():
        problems.append(
            f"hosts {join_and(hosts)} share jovial_address {address}; "
            "give each host its own address"
        )
    return problems


def check_vips(model: InventoryModel) -> list[str]:
    """jovial_vips: named, inside their network, free, carried by a group of 2+ hosts."""
    if "jovial_vips" in model.unresolved:
        return []
    value = model.site.get("jovial_vips")
    if value is None:
        return []  # no floating address at this site
    if not _is_list(value):
        return [
            "jovial_vips: expected a list of {name, address, network, group, "
            f"virtual_router_id}}, {_got(value)}"
        ]
    problems = []
    names: list[tuple[str, str]] = []
    addresses: list[tuple[Any, str]] = []
    router_ids: list[tuple[tuple[str, int], str]] = []
    for position, vip in enumerate(value):
        if not isinstance(vip, Mapping):
            problems.append(
                f"jovial_vips[{position}]: expected a mapping {{name, address, network, "
                f"group, virtual_router_id}}, {_got(vip)}"
            )
            continue
        name = vip.get("name")
        label = _item_label("jovial_vips", position, name)
        # Every VIP is also the host name <name>-vip in /etc/hosts (common role).
        if isinstance(name, str) and _DNS_LABEL.match(name) and len(name) <= 59:
            names.append((name, label))
        else:
            problems.append(
                f"{label}: name {show(name)} is not a short DNS name (letters, digits and '-', "
                "up to 59 characters); give each VIP a unique name such as proxy"
            )
        network = _vip_network(model, vip, label, problems)
        address = _vip_address(model, vip, label, network, problems)
        if address is not None:
            addresses.append((address, label))
        _vip_group(model, vip, label, problems)
        vrid = vip.get("virtual_router_id")
        if not _is_int(vrid) or not 1 <= vrid <= 255:
            problems.append(
                f"{label}: virtual_router_id {show(vrid)} is not an integer from 1 to 255; "
                "set a VRRP id unique on its network"
            )
        elif isinstance(vip.get("network"), str):
            router_ids.append(((vip["network"], vrid), label))

    for name, labels in _duplicates(names).items():
        problems.append(
            f"jovial_vips: name '{name}' is used by {len(labels)} VIPs; give each VIP a unique name"
        )
    for address, labels in _duplicates(addresses).items():
        problems.append(
            f"{join_and(labels)} share address {address}; give each VIP its own address"
        )
    for (network_name, vrid), labels in _duplicates(router_ids).items():
        problems.append(
            f"{join_and(labels)} share virtual_router_id {vrid} on network {network_name}; "
            "VRRP ids must be unique per network: pick another (1-255)"
        )
    if value:
        problems.extend(_vip_secret(model))
    return problems


KEEPALIVED_SECRET = "vault_keepalived_auth_pass"


def _vip_secret(model: InventoryModel) -> list[str]:
    """keepalived moves every VIP and authenticates its VRRP adverts with a listed secret of at
    least 8 characters (VRRP uses the first 8)."""
    required = model.site.get("jovial_required_secrets")
    if "jovial_required_secrets" in model.unresolved or not _is_list(required):
        return []  # reported by check_secrets
    if KEEPALIVED_SECRET not in required:
        return [
            f"jovial_required_secrets does not list {KEEPALIVED_SECRET}; keepalived moves the "
            "VIPs of jovial_vips and authenticates its VRRP adverts with it: add it there and a "
            "random value of 8+ characters to group_vars/all/vault.yml"
        ]
    secret = model.secrets.get(KEEPALIVED_SECRET)
    if isinstance(secret, str) and secret.strip() and len(secret) < 8:
        return [
            f"{KEEPALIVED_SECRET} has fewer than 8 characters (value not shown); VRRP uses its "
            "first 8: set a random string of 8+ characters in group_vars/all/vault.yml"
        ]
    return []


def _vip_network(
    model: InventoryModel, vip: Mapping[str, Any], label: str, problems: list[str]
) -> tuple[str, Network] | None:
    """The VIP's (network name, network) when usable; appends problems about it."""
    networks = valid_networks(model)
    if not networks:
        return None  # jovial_networks missing or broken: reported by check_site/check_networks
    choices = ", ".join(networks)
    network_name = vip.get("network")
    if network_name is None:
        problems.append(
            f"{label}: network is not set; set it to a name from jovial_networks ({choices})"
        )
        return None
    if not isinstance(network_name, str) or network_name not in networks:
        problems.append(
            f"{label}: network {show(network_name)} is not in jovial_networks ({choices}); "
            "use one of those names or add the network"
        )
        return None
    return network_name, networks[network_name]


def _vip_address(
    model: InventoryModel,
    vip: Mapping[str, Any],
    label: str,
    network: tuple[str, Network] | None,
    problems: list[str],
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The VIP's parsed address when valid; appends problems about it."""
    raw = vip.get("address")
    if raw is None:
        problems.append(f"{label}: address is not set; set a free address of its network")
        return None
    address = _parse_address(raw)
    if address is None:
        problems.append(f"{label}: address {show(raw)} is not a valid IP address")
        return None
    if network is not None:
        network_name, net = network
        if address not in net:
            problems.append(
                f"{label}: address {show(raw)} is outside network {network_name} ({net}); "
                "pick a free address inside it"
            )
        elif role := _reserved_role(address, net):
            problems.append(
                f"{label}: address {show(raw)} is the {role} address of {network_name} "
                f"({net}); pick a free host address inside it"
            )
    for host in managed_hosts(model):
        host_vars = model.hosts.get(host)
        if (
            isinstance(host_vars, Mapping)
            and _parse_address(host_vars.get("jovial_address")) == address
        ):
            problems.append(
                f"{label}: address {show(raw)} is the jovial_address of host {host}; "
                "pick an address no node uses"
            )
            break
    return address


def _vip_group(
    model: InventoryModel, vip: Mapping[str, Any], label: str, problems: list[str]
) -> None:
    """Appends problems about the group that carries the VIP."""
    group = vip.get("group")
    if group is None:
        problems.append(f"{label}: group is not set; set it to the group whose hosts carry it")
    elif not isinstance(group, str) or group not in model.groups:
        problems.append(
            f"{label}: group {show(group)} is not an inventory group; "
            "set it to the group whose hosts carry the VIP"
        )
    else:
        carriers = _group(model, group)
        if len(carriers) < 2:
            problems.append(
                f"{label}: group {group} has {_hosts_word(len(carriers))} "
                f"({join_and(carriers) if carriers else 'none'}); a VIP needs at least two "
                f"hosts to move between; add a host to {group}"
            )


def required_secret_names(value: Any) -> list[str]:
    """The well-formed vault_* names in jovial_required_secrets (what the caller must resolve)."""
    if not _is_list(value):
        return []
    return [
        name
        for name in value
        if isinstance(name, str) and _IDENTIFIER.match(name) and name.startswith("vault_")
    ]


def check_secrets(model: InventoryModel) -> list[str]:
    """jovial_required_secrets: vault_* names, each set to a non-empty string."""
    if "jovial_required_secrets" in model.unresolved:
        return []
    value = model.site.get("jovial_required_secrets")
    if value is None:
        return []
    if not _is_list(value):
        # Never show the value: it may be a secret pasted in the wrong place.
        return [
            f"jovial_required_secrets: expected a list of vault_* variable names, got "
            f"{_type_name(value)}; list the names, e.g. [vault_jovial_ca_passphrase]"
        ]
    problems = []
    for position, name in enumerate(value):
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            problems.append(
                f"jovial_required_secrets[{position}] is not a variable name (value not shown "
                "in case it is a secret); list vault_* variable names"
            )
            continue
        if not name.startswith("vault_"):
            problems.append(
                f"jovial_required_secrets: {name} is not named vault_*; rename it to "
                f"vault_{name} and keep its value in group_vars/all/vault.yml"
            )
            continue
        if name in model.unresolved:
            problems.append(
                f"secret {name} could not be templated ({model.unresolved[name]}); "
                "fix its value in group_vars/all/vault.yml"
            )
            continue
        if name not in model.secrets or model.secrets[name] is None:
            problems.append(
                f"secret {name} is not set; add it to group_vars/all/vault.yml "
                "and encrypt that file with ansible-vault"
            )
            continue
        secret = model.secrets[name]
        if not isinstance(secret, str):
            problems.append(
                f"secret {name} is {_type_name(secret)}, not a string; "
                "quote its value in group_vars/all/vault.yml"
            )
        elif not secret.strip():
            problems.append(f"secret {name} is empty; set a value in group_vars/all/vault.yml")
    for name, copies in _duplicates((n, n) for n in required_secret_names(value)).items():
        problems.append(f"jovial_required_secrets lists {name} {len(copies)} times; list it once")
    return problems


def _check_id_range(model: InventoryModel, variable: str) -> list[str]:
    if variable in model.unresolved:
        return []
    value = model.site.get(variable)
    example = "{min: 10000, max: 59999}"
    if value is None:
        return [f"{variable} is not set; set it in group_vars/all/site.yml, e.g. {example}"]
    if not isinstance(value, Mapping):
        return [
            f"{variable}: expected a mapping {{min, max}}, {_got(value)}; write it as {example}"
        ]
    problems = []
    low, high = value.get("min"), value.get("max")
    for key, bound in (("min", low), ("max", high)):
        if not _is_int(bound):
            problems.append(
                f"{variable}: {key} {show(bound)} is not an integer; write a number "
                f"without quotes, e.g. {example}"
            )
    if problems:
        return problems
    if low < ID_RANGE_FLOOR:
        problems.append(
            f"{variable}: min {low} is inside the system range; "
            f"use {ID_RANGE_FLOOR} or more (10000 is usual)"
        )
    if high >= ID_RANGE_CEILING:
        problems.append(
            f"{variable}: max {high} is not below 2^31 ({ID_RANGE_CEILING}); "
            "use a smaller max (59999 is usual)"
        )
    if low >= high:
        problems.append(f"{variable}: min {low} is not below max {high}; set min < max")
    elif low <= ID_NOBODY <= high:
        problems.append(
            f"{variable}: {low}-{high} includes {ID_NOBODY} (nobody); end the range below it "
            f"(e.g. max: 59999) or start it above it"
        )
    return problems


def _users_configured(model: InventoryModel) -> bool:
    """The site has people: an LDAP directory, or hubs or a Dask gateway serving users."""
    return (
        _ldap_configured(model)
        or bool(_group(model, "jupyterhub"))
        or bool(_group(model, "dask_gateway"))
    )


def check_id_ranges(model: InventoryModel) -> list[str]:
    """jovial_uid_range and jovial_gid_range: int min/max, 1000 <= min < max < 2^31, no 65534
    (where the site has users: see _users_configured)."""
    if not _users_configured(model):
        return []
    return _check_id_range(model, "jovial_uid_range") + _check_id_range(model, "jovial_gid_range")


def _ldap_configured(model: InventoryModel) -> bool:
    return bool(_group(model, "ldap_server")) or "ldap_base_dn" in model.site


def _kubernetes_configured(model: InventoryModel) -> bool:
    return bool(_group(model, "kube_control_plane") or _group(model, "kube_node"))
