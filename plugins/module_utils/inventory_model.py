"""The Jovial inventory model and its checks, as pure functions (docs/inventory.md).

Everything here works on plain Python data: the inventory's groups, each managed host's
variables and the site-wide variables, already templated by the caller (the controller-side
action plugin ``plugins/action/jovial_validate.py``). Nothing imports Ansible, so the checks are
unit-tested directly (``tests/unit/plugins/module_utils/test_inventory_model.py``).

The checks are a list of small functions, one per concern (``CHECKERS``). Each takes the whole
model and returns a list of problems: one sentence per problem that names the host or variable,
shows the value seen and says how to fix it. A layer that needs more checks adds a function to
``CHECKERS`` and the site variables it reads to ``SITE_VARIABLES``.

A checker never raises on bad input: a wrong type is a problem like any other. Values shown in
messages are the ones the operator wrote; the values of secrets are never shown.
"""

from __future__ import annotations

import contextlib
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
)

# The Kubernetes layer's settings check_kubernetes reads (group_vars/all/kubernetes.yml). Their
# defaults are the kubernetes role's (ROLE_DEFAULTS below).
KUBERNETES_SETTINGS: tuple[str, ...] = (
    "kubernetes_version",
    "kubernetes_apiserver_vip_name",
    "kubernetes_pod_subnet",
    "kubernetes_service_subnet",
    "kubernetes_node_cidr_mask",
    "kubernetes_source",
    "kubernetes_mirror_url",
    "kubernetes_checksums",
    "kubernetes_package_version",
    "kubernetes_user_namespaces",
)

# Dask Gateway's limits (check_dask_gateway): name -> the least value allowed. Their defaults
# are the dask_gateway role's (ROLE_DEFAULTS below).
DASK_GATEWAY_LIMITS: dict[str, int] = {
    "dask_gateway_worker_cores": 1,
    "dask_gateway_scheduler_cores": 1,
    "dask_gateway_cluster_max_workers": 1,
    "dask_gateway_cluster_max_cores": 1,
    "dask_gateway_clusters_per_user": 0,
    "dask_gateway_idle_timeout": 0,
    "dask_gateway_server_check_period": 0,
}
DASK_GATEWAY_SECRET = "vault_dask_gateway_api_token"

# The sshd baseline's settings (group_vars/all/ssh.yml; check_ssh). Their defaults are the common
# role's; a group or host may set its own (group_vars/<group>, host_vars), checked per host.
SSH_SETTINGS: tuple[str, ...] = (
    "common_ssh_kex_algorithms",
    "common_ssh_ciphers",
    "common_ssh_macs",
    "common_ssh_host_key_types",
)

# The host firewall's settings check_firewall reads (group_vars/all/firewall.yml). Their
# defaults are the firewall role's (ROLE_DEFAULTS below).
FIREWALL_SETTINGS: tuple[str, ...] = (
    "firewall_enabled",
    "jovial_admin_networks",
    "firewall_services",
)

# The site CA's lifetimes and renewal threshold (group_vars/all/site_ca.yml; check_site_ca).
# Their defaults are the site_ca role's (ROLE_DEFAULTS below).
SITE_CA_SETTINGS: tuple[str, ...] = (
    "site_ca_cert_valid_days",
    "site_ca_renew_days",
    "site_ca_crl_valid_days",
)

# The hub's own settings check_jupyterhub reads. Their defaults are the jupyterhub role's
# (ROLE_DEFAULTS below), which follow the site's LDAP settings (ldap_uris, ldap_base_dn,
# ldap_home_root).
JUPYTERHUB_SETTINGS: tuple[str, ...] = (
    "jupyterhub_ldap_uris",
    "jupyterhub_ldap_base_dn",
    "jupyterhub_home_root",
    "jupyterhub_min_uid",
)

# The failover pairs' Pacemaker policies (check_fencing): name -> (the values Pacemaker takes,
# what they mean). Their defaults are the ha_cluster role's (ROLE_DEFAULTS below).
HA_CLUSTER_CHOICES: dict[str, tuple[tuple[str, ...], str]] = {
    "ha_cluster_stonith_action": (
        ("reboot", "off"),
        "reboot power-cycles a fenced node, off leaves it down",
    ),
    "ha_cluster_no_quorum_policy": (
        ("stop", "freeze", "demote", "ignore"),
        "stop, the default, stops the resources of a member that lost its partner",
    ),
}

# Site-wide variables (group_vars/all) the checkers read. The action plugin templates these
# from the control node's variables; the vault_* variables named by jovial_required_secrets are
# collected separately (InventoryModel.secrets).
# The lab's inventory (inventories/lab) is the one that names the podman network
# playbooks/lab-up.yml builds its containers on; no real site defines it.
LAB_MARKER = "lab_network_name"

SITE_VARIABLES: tuple[str, ...] = (
    # LDAP layer (check_ldap_*)
    "ldap_base_dn",
    "ldap_users",
    "ldap_groups",
    "ldap_uris",
    "ldap_providers",
    "ldap_write_provider",
    "jovial_site",
    "jovial_domain",
    "jovial_networks",
    "jovial_vips",
    "etcd_members",
    "lustre_targets",
    "jovial_required_secrets",
    "jovial_uid_range",
    "jovial_gid_range",
    # proxy layer (check_proxy)
    "jovial_pki_dir",
    "nginx_proxy_vip_name",
    "nginx_proxy_server_name",
    "nginx_proxy_upstreams",
    "nginx_proxy_tls_source",
    "nginx_proxy_tls_cert_file",
    "nginx_proxy_tls_key_file",
    "nginx_proxy_upstream_tls",
    "nginx_proxy_upstream_tls_name",
    # jupyterhub layer (check_jupyterhub_hubs)
    "jupyterhub_backend",
    "jupyterhub_hubs",
    *JUPYTERHUB_SETTINGS,
    # etcd layer (check_etcd_settings)
    "etcd_install_method",
    "etcd_release_version",
    "etcd_release_sha256",
    "etcd_release_source",
    "etcd_client_port",
    "etcd_peer_port",
    "etcd_metrics_port",
    "etcd_heartbeat_interval",
    "etcd_election_timeout",
    "etcd_quota_backend_bytes",
    "etcd_cert_valid_days",
    "etcd_cert_extra_sans",
    # storage layer (check_lustre_backend, check_lnet, check_fencing)
    "lustre_fsname",
    "lustre_server_backend",
    "lnet_networks",
    # the failover pairs' Pacemaker policies (check_fencing; defaults from the ha_cluster role)
    *HA_CLUSTER_CHOICES,
    # science groups' quotas on the shared filesystem (check_lustre_quotas)
    "lustre_quotas",
    # where clients mount the filesystem and where homes live (check_home_root), the clients'
    # tunables (check_lustre_client)
    "lustre_client_mount_root",
    "lustre_client_tunables",
    "ldap_client_home_root",
    # lab_ext4 is for the lab (recognised by LAB_MARKER) or an inventory that allows it
    LAB_MARKER,
    "jovial_allow_lab_ext4",
    # Kubernetes layer (check_kubernetes; defaults from the kubernetes role, ROLE_DEFAULTS)
    *KUBERNETES_SETTINGS,
    # Dask layer (check_dask_gateway; defaults from the dask_gateway role, ROLE_DEFAULTS)
    *DASK_GATEWAY_LIMITS,
    # common layer: the sshd baseline (check_ssh; defaults from the common role)
    *SSH_SETTINGS,
    # host firewall (check_firewall; defaults from the firewall role, ROLE_DEFAULTS)
    *FIREWALL_SETTINGS,
    # site CA lifetimes (check_site_ca; defaults from the site_ca role, ROLE_DEFAULTS)
    *SITE_CA_SETTINGS,
)

# Site variables whose defaults are a role's (roles/<role>/defaults/main.yml). When the
# inventory does not set one, the action plugin reads the role's defaults file and templates
# the default (with the inventory's variables and the role's other defaults), so the checks see
# what the role will use and no default is restated here. Each name is also in SITE_VARIABLES.
ROLE_DEFAULTS: dict[str, tuple[str, ...]] = {
    "kubernetes": KUBERNETES_SETTINGS,
    # The release the etcd role pins, and where a site fetches it from (which may name it).
    "etcd": (
        "etcd_install_method",
        "etcd_release_version",
        "etcd_release_source",
        "etcd_release_sha256",
        "etcd_heartbeat_interval",
        "etcd_election_timeout",
    ),
    "common": SSH_SETTINGS,
    "firewall": FIREWALL_SETTINGS,
    "site_ca": SITE_CA_SETTINGS,
    "lustre_client": ("lustre_client_mount_root", "lustre_client_tunables"),
    "ldap_client": ("ldap_client_home_root",),
    "nginx_proxy": (
        "nginx_proxy_vip_name",
        "nginx_proxy_tls_source",
        "nginx_proxy_upstream_tls",
        "nginx_proxy_upstream_tls_name",
    ),
    "jupyterhub": ("jupyterhub_backend", *JUPYTERHUB_SETTINGS),
    "ha_cluster": tuple(HA_CLUSTER_CHOICES),
    "dask_gateway": tuple(DASK_GATEWAY_LIMITS),
}

# Per-host variables the checkers read (from hostvars of each managed host).
HOST_VARIABLES: tuple[str, ...] = (
    "jovial_address",
    # jupyterhub layer (check_jupyterhub_hubs): what each Kubernetes worker offers to pods
    "kube_node_allocatable",
    # storage layer: NIDs, fence devices, subnet manager priority, IPoIB addresses
    "lustre_nid",
    "ha_cluster_fence",
    "opensm_priority",
    "infiniband_ipoib_interfaces",
    # common layer: a group's or host's own sshd baseline (check_ssh)
    *SSH_SETTINGS,
)

ETCD_SIZES: tuple[int, ...] = (3, 5, 7)

# Lustre target kind -> the group its primary and failover hosts must belong to.
LUSTRE_KIND_GROUPS: dict[str, str] = {
    "mgt": "lustre_mgs",
    "mdt": "lustre_mds",
    "ost": "lustre_oss",
}

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


# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
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


def etcd_members(model: InventoryModel) -> Any:
    """etcd_members as set, or the etcd group when it is not set."""
    value = model.site.get("etcd_members")
    return list(_group(model, "etcd")) if value is None else value


def _etcd_configured(model: InventoryModel) -> bool:
    """The site runs etcd: group etcd has hosts, etcd_members is set, or Kubernetes (whose
    control plane stores its state in the external etcd cluster) is configured."""
    return (
        bool(_group(model, "etcd"))
        or model.site.get("etcd_members") is not None
        or _kubernetes_configured(model)
    )


def check_etcd(model: InventoryModel) -> list[str]:
    """etcd_members: 3, 5 or 7 distinct hosts, each in the inventory and in group etcd."""
    if "etcd_members" in model.unresolved or not _etcd_configured(model):
        return []
    members = etcd_members(model)
    if not _is_list(members):
        return [
            f"etcd_members: expected a list of hostnames, {_got(members)}; "
            "use etcd_members: \"{{ groups['etcd'] | default([]) }}\""
        ]
    problems = []
    known = inventory_hosts(model)
    etcd_group = set(_group(model, "etcd"))
    names: list[str] = []
    for position, member in enumerate(members):
        if not isinstance(member, str) or not member:
            problems.append(
                f"etcd_members[{position}]: expected a hostname, {_got(member)}; "
                "list inventory hostnames"
            )
            continue
        names.append(member)
        if member not in known:
            problems.append(
                f"etcd_members: host {show(member)} is not in the inventory; "
                "list hosts of group etcd"
            )
        elif member not in etcd_group:
            problems.append(
                f"etcd_members: host {member} is not in group etcd; add it to group etcd "
                "in hosts.yml or remove it from etcd_members"
            )
    for member, copies in _duplicates((m, m) for m in names).items():
        problems.append(f"etcd_members lists {member} {len(copies)} times; list each member once")
    for host in _group(model, "etcd"):
        if host not in names:
            problems.append(
                f"etcd_members: host {host} is in group etcd but not in etcd_members; "
                "playbooks/etcd.yml makes every host of group etcd a member: add it to "
                "etcd_members or remove it from group etcd"
            )
    if len(members) not in ETCD_SIZES:
        shown = join_and(str(m) for m in members) if members else "none"
        problems.append(
            f"etcd_members has {_hosts_word(len(members))} ({shown}); etcd needs 3, 5 or 7 "
            "members (an odd number, for quorum); change group etcd (or etcd_members)"
        )
    return problems


ETCD_QUOTA_MAX = 8 * 1024**3  # etcd's largest supported backend quota (8 GiB)
_ETCD_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _etcd_int(model: InventoryModel, name: str, low: int, high: int, fix: str) -> list[str]:
    value = model.site.get(name)
    if name in model.unresolved or value is None:
        return []
    if not _is_int(value) or not low <= value <= high:
        return [f"{name} {show(value)} is not an integer from {low} to {high}; {fix}"]
    return []


def check_etcd_settings(model: InventoryModel) -> list[str]:
    """etcd install source, ports, raft timing and TLS settings (members: check_etcd).

    Unset variables take the etcd role's defaults (roles/etcd/defaults/main.yml), which are
    valid, so only what the site sets is checked.
    """
    problems: list[str] = []
    site = model.site
    method = site.get("etcd_install_method")
    if "etcd_install_method" not in model.unresolved and method is not None:
        if method not in ("debian", "release"):
            problems.append(
                f"etcd_install_method {show(method)} is not debian or release; use debian "
                "(Debian's packages) or release (a pinned upstream tarball)"
            )
        elif method == "release":
            version = site.get("etcd_release_version")
            if not isinstance(version, str) or not _ETCD_VERSION.match(version):
                problems.append(
                    f"etcd_release_version {show(version)} is not a version like 3.5.17; pin "
                    "the upstream release in group_vars/all/etcd.yml"
                )
            digest = site.get("etcd_release_sha256")
            if not isinstance(digest, str) or not _SHA256.match(digest):
                problems.append(
                    f"etcd_release_sha256 {show(digest)} is not a sha256 (64 lowercase hex "
                    "digits); copy it from the release's SHA256SUMS into group_vars/all/etcd.yml"
                )
            source = site.get("etcd_release_source")
            if not isinstance(source, str) or not source.strip():
                problems.append(
                    f"etcd_release_source {show(source)} is empty; set the tarball's URL on "
                    "the site mirror or its absolute path on the control node"
                )

    ports: list[tuple[Any, str]] = []
    for name in ("etcd_client_port", "etcd_peer_port", "etcd_metrics_port"):
        found = _etcd_int(model, name, 1, 65535, "use a free TCP port")
        problems.extend(found)
        if not found and _is_int(site.get(name)):
            ports.append((site[name], name))
    for port, names in _duplicates(ports).items():
        problems.append(f"{join_and(names)} are all {port}; give each listener its own port")

    problems.extend(
        _etcd_int(
            model,
            "etcd_heartbeat_interval",
            10,
            5000,
            "use about the members' round-trip time in ms (100 on one LAN)",
        )
    )
    problems.extend(
        _etcd_int(
            model,
            "etcd_election_timeout",
            50,
            50000,
            "use 10x etcd_heartbeat_interval in ms (1000 on one LAN)",
        )
    )
    heartbeat = site.get("etcd_heartbeat_interval")
    election = site.get("etcd_election_timeout")
    if _is_int(heartbeat) and _is_int(election) and 0 < election < 5 * heartbeat:
        problems.append(
            f"etcd_election_timeout {election} is less than 5x etcd_heartbeat_interval "
            f"{heartbeat}; etcd refuses to start: set it to at least {5 * heartbeat} "
            f"(10x, {10 * heartbeat}, is usual)"
        )
    problems.extend(
        _etcd_int(
            model,
            "etcd_quota_backend_bytes",
            1,
            ETCD_QUOTA_MAX,
            "etcd supports at most 8 GiB (8589934592); 2147483648 is its default",
        )
    )

    problems.extend(
        _etcd_int(
            model,
            "etcd_cert_valid_days",
            1,
            3650,
            "certificates are reissued by re-running playbooks/etcd.yml; 825 is usual",
        )
    )
    sans = site.get("etcd_cert_extra_sans")
    if "etcd_cert_extra_sans" not in model.unresolved and sans is not None:
        if not _is_list(sans):
            problems.append(
                f"etcd_cert_extra_sans: expected a list like ['DNS:etcd.example.org', "
                f"'IP:10.0.0.5'], {_got(sans)}"
            )
        else:
            for position, san in enumerate(sans):
                kind, _sep, value = san.partition(":") if isinstance(san, str) else ("", "", "")
                ok = (kind == "DNS" and all(_DNS_LABEL.match(x) for x in value.split("."))) or (
                    kind == "IP" and _parse_address(value) is not None
                )
                if not ok:
                    problems.append(
                        f"etcd_cert_extra_sans[{position}] {show(san)} is not a subjectAltName "
                        "like DNS:etcd.example.org or IP:10.0.0.5; fix or remove it"
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


def check_lustre_targets(model: InventoryModel) -> list[str]:
    """Each Lustre target: kind, unique index, distinct primary/failover in its kind's group."""
    if "lustre_targets" in model.unresolved:
        return []
    value = model.site.get("lustre_targets")
    if value is None:
        return []  # no Lustre at this site
    if not _is_list(value):
        return [
            f"lustre_targets: expected a list of {{kind, index, primary, failover}}, {_got(value)}"
        ]
    problems = []
    known = inventory_hosts(model)
    kinds = ", ".join(LUSTRE_KIND_GROUPS)
    indexes: list[tuple[tuple[str, int], str]] = []
    for position, target in enumerate(value):
        if not isinstance(target, Mapping):
            problems.append(
                f"lustre_targets[{position}]: expected a mapping {{kind, index, primary, "
                f"failover}}, {_got(target)}"
            )
            continue
        kind, index = target.get("kind"), target.get("index")
        kind_ok = isinstance(kind, str) and kind in LUSTRE_KIND_GROUPS
        index_ok = _is_int(index) and index >= 0
        label = (
            f"lustre_targets[{kind}{index}]"
            if kind_ok and index_ok
            else f"lustre_targets[{position}]"
        )
        if not kind_ok:
            problems.append(f"{label}: kind {show(kind)} is not one of {kinds}; fix the kind")
        if not index_ok:
            problems.append(
                f"{label}: index {show(index)} is not an integer >= 0; "
                "number the targets of each kind 0, 1, 2, ..."
            )
        if kind_ok and index_ok:
            indexes.append(((kind, index), label))
        group = LUSTRE_KIND_GROUPS.get(kind) if kind_ok else None
        where = f"a host of {group}" if group else "a Lustre server"

        hosts: dict[str, str] = {}
        for role in ("primary", "failover"):
            host = target.get(role)
            if host is None or host == "":
                fix = "the partner" if role == "failover" else "the preferred server"
                problems.append(
                    f"{label}: {role} host is not set; a target needs a failover pair: "
                    f"set {role} to {fix} ({where})"
                )
            elif not isinstance(host, str):
                problems.append(f"{label}: {role} {_got(host)}; set it to {where}")
            elif host not in known:
                problems.append(
                    f"{label}: {role} host {show(host)} is not in the inventory; set it to {where}"
                )
            else:
                hosts[role] = host
                if group and host not in _group(model, group):
                    problems.append(
                        f"{label}: {role} host {host} is not in group {group}; "
                        f"add it to {group} or pick {where}"
                    )
        if hosts.get("primary") is not None and hosts.get("primary") == hosts.get("failover"):
            problems.append(
                f"{label}: failover host '{hosts['failover']}' is the same as primary; "
                f"set failover to the partner in {group or 'its server group'}"
            )
    for (kind, index), labels in _duplicates(indexes).items():
        problems.append(
            f"lustre_targets[{kind}{index}] is defined {len(labels)} times; "
            f"give each {kind} its own index"
        )
    return problems


# --------------------------------------------------------------------------------------------
# Storage layer: failover pairs, Lustre backend and devices, LNet and NIDs, fencing, InfiniBand
# (docs/inventory.md, "Lustre", "InfiniBand and LNet", "Fencing")

LUSTRE_BACKENDS: tuple[str, ...] = ("lustre", "lab_ext4", "moosefs")
# Backends whose servers serve clients (lab_ext4 serves targets only).
CLIENT_BACKENDS: tuple[str, ...] = ("lustre", "moosefs")
FENCE_AGENTS: tuple[str, ...] = ("fence_ipmilan", "fence_redfish", "fence_jovial_podman")
LUSTRE_SECRETS: tuple[str, ...] = ("vault_ha_cluster_authkey",)
_LNET_NET = re.compile(r"^(?P<type>o2ib|tcp)(?P<num>\d*)$")
_FSNAME = re.compile(r"^[A-Za-z0-9_-]{1,8}$")
OPENSM_PRIORITY_MAX = 15
# IPoIB MTUs: at least IPv6's minimum; datagram mode carries at most the 4K IB MTU less the
# 4-byte IPoIB header, connected mode up to 65520.
IPOIB_MTU_MIN = 1280
IPOIB_MTU_MAX: dict[str, int] = {"datagram": 4092, "connected": 65520}


def _storage_configured(model: InventoryModel) -> bool:
    """The storage layer's settings are present (lustre_server_backend is set, as in the
    sample and lab inventories); until then only the targets and pairs are checked."""
    return "lustre_server_backend" in model.site or "lustre_server_backend" in model.unresolved


def _lustre_servers(model: InventoryModel) -> list[str]:
    return sorted({h for g in LUSTRE_KIND_GROUPS.values() for h in _group(model, g)})


def _valid_targets(model: InventoryModel) -> list[tuple[str, Mapping]]:
    """(label, target) of the lustre_targets entries check_lustre_targets accepts the hosts of."""
    value = model.site.get("lustre_targets")
    if "lustre_targets" in model.unresolved or not _is_list(value):
        return []
    found = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        primary, failover = item.get("primary"), item.get("failover")
        kind = item.get("kind")
        group = LUSTRE_KIND_GROUPS.get(kind) if isinstance(kind, str) else None
        members = _group(model, group) if group else []
        if primary in members and failover in members and primary != failover:
            found.append((f"lustre_targets[{item.get('kind')}{item.get('index')}]", item))
    return found


def lustre_pairs(model: InventoryModel) -> dict[str, set[str]]:
    """Each server -> its partners, from the targets' {primary, failover} (one when valid)."""
    partners: dict[str, set[str]] = {}
    for _label, target in _valid_targets(model):
        a, b = target["primary"], target["failover"]
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    return partners


def _lnet_net(name: Any) -> str | None:
    """'o2ib0' -> 'o2ib' (lnetctl's spelling of network 0), None when not an LNet name."""
    match = _LNET_NET.match(name) if isinstance(name, str) else None
    if not match:
        return None
    number = match.group("num")
    return match.group("type") + ("" if number in ("", "0") else str(int(number)))


def check_lustre_pairs(model: InventoryModel) -> list[str]:
    """Failover pairs derived from lustre_targets: each server belongs to exactly one pair."""
    problems = []
    for host, partners in sorted(lustre_pairs(model).items()):
        if len(partners) > 1:
            problems.append(
                f"host {host} is the partner of {join_and(sorted(partners))} in lustre_targets; "
                "each Lustre server belongs to exactly one failover pair (one Pacemaker "
                f"cluster): give every target of {host} the same partner"
            )
    servers = _lustre_servers(model)
    no_targets = "lustre_targets" not in model.unresolved and not model.site.get("lustre_targets")
    if servers and no_targets:
        problems.append(
            f"hosts {join_and(servers)} are Lustre servers (lustre_mgs, lustre_mds, lustre_oss) "
            "but lustre_targets lists no target; list the targets their failover pairs serve in "
            "group_vars/all/lustre.yml, or remove the hosts from the lustre_* groups"
        )
    for host in servers:
        if lustre_pairs(model) and host not in lustre_pairs(model):
            problems.append(
                f"host {host} is a Lustre server but no lustre_targets entry names it; give it "
                "targets (as primary or failover) or remove it from the lustre_* groups"
            )
    return problems


def _lab_ext4_problem(model: InventoryModel) -> str | None:
    """lab_ext4 mounts loop-backed ext4 images, not Lustre: accepted in the lab (the inventory
    playbooks/lab-up.yml builds, which defines LAB_MARKER) or where the inventory says
    jovial_allow_lab_ext4: true (a throwaway test bed); refused anywhere else."""
    if LAB_MARKER in model.site or LAB_MARKER in model.unresolved:
        return None
    allowed = model.site.get("jovial_allow_lab_ext4")
    if allowed is True or "jovial_allow_lab_ext4" in model.unresolved:
        return None
    seen = "is not set" if allowed is None else f"is {show(allowed)}, not true"
    return (
        "lustre_server_backend 'lab_ext4' outside the lab (no lab_network_name; "
        f"jovial_allow_lab_ext4 {seen}): it serves loop-backed ext4 images, not Lustre; on real "
        "servers set lustre_server_backend: lustre and give every target its device, or, for a "
        "throwaway test bed only, set jovial_allow_lab_ext4: true in group_vars/all"
    )


def check_lustre_backend(model: InventoryModel) -> list[str]:
    """lustre_fsname, lustre_server_backend (lab_ext4 only in the lab or where allowed), and
    with backend lustre a device per target, an absolute path, not shared by two targets of
    the same server."""
    if model.site.get("lustre_targets") is None or not _storage_configured(model):
        return []
    problems = []
    fsname = model.site.get("lustre_fsname")
    if "lustre_fsname" not in model.unresolved and fsname is None:
        problems.append(
            "lustre_fsname is not set; set it in group_vars/all/lustre.yml to the file system's "
            "name, 1-8 letters, digits, '_' or '-' (e.g. jovial)"
        )
    elif "lustre_fsname" not in model.unresolved and (
        not isinstance(fsname, str) or not _FSNAME.match(fsname)
    ):
        problems.append(
            f"lustre_fsname {show(fsname)} is not a Lustre file system name; use 1-8 "
            "letters, digits, '_' or '-' (e.g. jovial)"
        )
    backend = model.site.get("lustre_server_backend", "lustre")
    if "lustre_server_backend" in model.unresolved:
        return problems
    if backend not in LUSTRE_BACKENDS:
        problems.append(
            f"lustre_server_backend {show(backend)} is not one of {', '.join(LUSTRE_BACKENDS)}; "
            "use lustre on real servers (lab_ext4 only in the lab and Molecule)"
        )
        return problems
    if backend == "lab_ext4":
        refused = _lab_ext4_problem(model)
        if refused:
            problems.append(refused)
    targets = model.site.get("lustre_targets")
    if (
        backend == "lustre"
        and "lustre_targets" not in model.unresolved
        and _is_list(targets)
        and targets
        and not any(isinstance(t, Mapping) and t.get("kind") == "mgt" for t in targets)
    ):
        problems.append(
            "lustre_targets has no mgt target; with lustre_server_backend lustre the clients "
            "mount from the MGS pair: add {kind: mgt, index: 0, primary: <a host of lustre_mgs>, "
            "failover: <its partner>, device: <its device>}"
        )
    used: list[tuple[tuple[str, str], str]] = []
    for label, target in _valid_targets(model):
        device = target.get("device")
        if device is None:
            if backend == "lustre":
                problems.append(
                    f"{label}: device is not set; with lustre_server_backend lustre every "
                    "target needs its shared block device, e.g. device: "
                    "/dev/disk/by-id/dm-uuid-mpath-<wwid>"
                )
            continue
        if not isinstance(device, str) or not device.startswith("/dev/"):
            problems.append(
                f"{label}: device {show(device)} is not a /dev path; use the stable name of the "
                "shared block device (/dev/disk/by-id/... or /dev/mapper/...)"
            )
            continue
        for host in (target["primary"], target["failover"]):
            used.append(((host, device), label))
    for (host, device), labels in _duplicates(used).items():
        problems.append(
            f"host {host}: device {device} is used by {join_and(labels)}; each target needs "
            "its own device (formatting one would destroy the other)"
        )
    return problems


def check_moosefs(model: InventoryModel) -> list[str]:
    """Backend moosefs: exactly one MDT, and every MDT and OST has its own failover address
    (`address`), inside a jovial network, used by no host and no VIP."""
    backend = model.site.get("lustre_server_backend", "lustre")
    if not _storage_configured(model) or backend != "moosefs":
        return []
    problems = []
    targets = _valid_targets(model)
    mdts = [label for label, target in targets if target.get("kind") == "mdt"]
    if len(mdts) != 1:
        problems.append(
            f"lustre_server_backend moosefs needs exactly one mdt target ({len(mdts)} given: "
            f"{join_and(mdts) or 'none'}); MooseFS has one metadata server, run by the MDS pair"
        )
    networks = valid_networks(model)
    taken: list[tuple[Any, str]] = []
    for host in managed_hosts(model):
        address = _parse_address(model.hosts.get(host, {}).get("jovial_address"))
        if address is not None:
            taken.append((address, f"host {host}"))
    for vip in model.site.get("jovial_vips") or []:
        if isinstance(vip, Mapping) and _parse_address(vip.get("address")) is not None:
            taken.append((_parse_address(vip.get("address")), f"VIP {vip.get('name')}"))
    for label, target in targets:
        if target.get("kind") not in ("mdt", "ost"):
            continue
        value = target.get("address")
        address = _parse_address(value)
        if address is None:
            problems.append(
                f"{label}: address {show(value)} is not an IP address; with "
                "lustre_server_backend moosefs each mdt and ost target needs `address`, a free "
                "address on the pair's network that moves with the target (e.g. address: "
                "10.77.0.45)"
            )
            continue
        if address.version != 4:
            problems.append(
                f"{label}: address {show(value)} is not an IPv4 address; MooseFS clients and "
                "chunkservers reach its services over IPv4: use a free IPv4 address on the "
                "pair's network"
            )
            continue
        if networks and not any(address in net for net in networks.values()):
            problems.append(
                f"{label}: address {show(value)} is not inside any network in jovial_networks "
                f"({_networks_text(networks)}); use a free address of the pair's network"
            )
        taken.append((address, label))
    for address, owners in _duplicates(taken).items():
        if any(owner.startswith("lustre_targets") for owner in owners):
            problems.append(
                f"{join_and(owners)} share the address {address}; each target's failover "
                "address must be its own (a free address, not a host's or a VIP's)"
            )
    return problems


def check_home_root(model: InventoryModel) -> list[str]:
    """Where the storage layer serves clients, homes are on the shared filesystem:
    ldap_client_home_root inside <lustre_client_mount_root>/<lustre_fsname> (where the site has
    users with homes: see _users_configured)."""
    if (
        not _storage_configured(model)
        or not _group(model, "lustre_client")
        or not _users_configured(model)
    ):
        return []
    names = (
        "lustre_server_backend",
        "lustre_fsname",
        "lustre_client_mount_root",
        "ldap_client_home_root",
    )
    if any(name in model.unresolved for name in names):
        return []
    backend = model.site.get("lustre_server_backend", "lustre")
    fsname = model.site.get("lustre_fsname")
    root = model.site.get("lustre_client_mount_root")
    home = model.site.get("ldap_client_home_root")
    if backend not in CLIENT_BACKENDS or not all(isinstance(v, str) for v in (fsname, root, home)):
        return []
    mount = f"{root.rstrip('/')}/{fsname}"
    if home.rstrip("/").startswith(mount + "/"):
        return []
    return [
        f"ldap_home_root {show(home)} is not on the shared filesystem, which every "
        f"lustre_client mounts at {mount} (lustre_mount_root/lustre_fsname): homes there would "
        f"sit on each node's own disk and be lost with it; set ldap_home_root: {mount}/home"
    ]


_MOUNT_ROOT = re.compile(r"^(/[A-Za-z0-9_.]+)+$")
_TUNABLE = re.compile(r"^(osc|mdc|llite|ldlm|lov|lmv)\.[a-z0-9_.]+$")


def check_lustre_client(model: InventoryModel) -> list[str]:
    """Where lustre_client hosts mount the storage: a mount root the role can build a mount unit
    from, and tunables named <device type>.<param> (both are the lustre_client role's
    defaults unless the inventory sets them)."""
    if not _storage_configured(model) or not _group(model, "lustre_client"):
        return []
    problems: list[str] = []
    backend = model.site.get("lustre_server_backend", "lustre")
    root = model.site.get("lustre_client_mount_root")
    if (
        backend in CLIENT_BACKENDS
        and "lustre_client_mount_root" in model.site
        and not (isinstance(root, str) and _MOUNT_ROOT.match(root))
    ):
        problems.append(
            f"lustre_mount_root {show(root)} is not an absolute path of letters, digits, '_' "
            "and '.' (e.g. /lustre); every lustre_client mounts the file system at "
            "<lustre_mount_root>/<lustre_fsname>"
        )
    tunables = model.site.get("lustre_client_tunables")
    if "lustre_client_tunables" in model.unresolved or tunables is None:
        return problems
    if not isinstance(tunables, Mapping):
        problems.append(
            f"lustre_client_tunables: expected a mapping of <device type>.<param> to a value, "
            f"{_got(tunables)}; e.g. {{osc.max_rpcs_in_flight: 16}}"
        )
        return problems
    for key in tunables:
        if not isinstance(key, str) or not _TUNABLE.match(key):
            problems.append(
                f"lustre_client_tunables: key {show(key)} is not <device type>.<param> with a "
                "device type of osc, mdc, llite, ldlm, lov or lmv (e.g. osc.max_rpcs_in_flight); "
                "the role sets each as <type>.<lustre_fsname>-*.<param>"
            )
    return problems


def check_lustre_quotas(model: InventoryModel) -> list[str]:
    """Each lustre_quotas entry names a group of the directory (ldap_groups, when the site
    manages it): the storage layer applies quotas by that group's gid before SSSD runs."""
    quotas = model.site.get("lustre_quotas")
    if "lustre_quotas" in model.unresolved or quotas is None:
        return []
    example = "[{group: astro, block_hardlimit: 10T, inode_hardlimit: 10000000}]"
    if not _is_list(quotas):
        return [f"lustre_quotas: expected a list of mappings, {_got(quotas)}; e.g. {example}"]
    groups = None
    if "ldap_groups" not in model.unresolved and _is_list(model.site.get("ldap_groups")):
        groups = [
            g.get("name")
            for g in model.site["ldap_groups"]
            if isinstance(g, Mapping) and g.get("state", "present") == "present"
        ]
    problems = []
    for position, entry in enumerate(quotas):
        group = entry.get("group") if isinstance(entry, Mapping) else None
        if not isinstance(group, str) or not group:
            problems.append(
                f"lustre_quotas[{position}]: {show(entry)} names no group; e.g. {example}"
            )
        elif groups is not None and group not in groups:
            problems.append(
                f"lustre_quotas[{group}]: group {group} is not a present group of ldap_groups; "
                "add it to ldap_groups (its gid is what the quota is set on) or remove the quota"
            )
    return problems


def _lnet_names(model: InventoryModel, problems: list[str]) -> dict[str, str] | None:
    """lnet_networks: normalized net -> name as written; None when not set."""
    if "lnet_networks" in model.unresolved:
        return None
    value = model.site.get("lnet_networks")
    if value is None:
        return None
    example = "[{name: o2ib0, interfaces: [ib0]}]"
    if not _is_list(value) or not value:
        problems.append(f"lnet_networks: expected a non-empty list, {_got(value)}; e.g. {example}")
        return None
    seen: dict[str, str] = {}
    names: dict[str, str] = {}
    absent = 0
    for position, item in enumerate(value):
        name = item.get("name") if isinstance(item, Mapping) else None
        label = _item_label("lnet_networks", position, name)
        net = _lnet_net(name)
        if net is None:
            problems.append(
                f"{label}: name {show(name)} is not an LNet network; use o2ib<N> (InfiniBand) "
                f"or tcp<N> (e.g. o2ib0), as in {example}"
            )
            continue
        if net in seen:
            problems.append(f"{label}: network {name} is listed twice (as {seen[net]}); keep one")
            continue
        seen[net] = name
        state = item.get("state", "present")
        if state not in ("present", "absent"):
            problems.append(
                f"{label}: state {show(state)} is not present or absent; write state: absent to "
                "remove the network from LNet, or leave state out"
            )
        elif state == "absent":
            absent += 1
            continue
        names[net] = name
        interfaces = item.get("interfaces")
        if (
            not _is_list(interfaces)
            or not interfaces
            or not all(isinstance(i, str) and i for i in interfaces)
        ):
            problems.append(
                f"{label}: interfaces {show(interfaces)} is not a non-empty list of interface "
                "names; e.g. [ib0] (IPoIB) or [eth0]"
            )
    if absent and absent == len(seen) == len(value):
        problems.append(
            "lnet_networks has no present network (every entry is state: absent); keep the "
            "network the Lustre nodes' NIDs are on"
        )
        return seen  # the NIDs are not checked against networks that are all going away
    return names


def check_lnet(model: InventoryModel) -> list[str]:
    """lnet_networks, and lustre_nid on every Lustre server and client: <ipv4>@<net>, net
    listed in lnet_networks, unique; the two servers of a pair on the same net."""
    if not _storage_configured(model):
        return []
    hosts = sorted(set(_lustre_servers(model)) | set(_group(model, "lustre_client")))
    problems: list[str] = []
    names = _lnet_names(model, problems)
    if not hosts:
        return problems
    if names is None and "lnet_networks" not in model.unresolved:
        problems.append(
            "lnet_networks is not set; list the LNet networks of the Lustre nodes in "
            "group_vars/all/lnet.yml, e.g. [{name: o2ib0, interfaces: [ib0]}]"
        )
    nid_net: dict[str, str] = {}
    seen: list[tuple[str, str]] = []
    for host in hosts:
        if f"{host}:lustre_nid" in model.unresolved:
            continue
        nid = model.hosts.get(host, {}).get("lustre_nid")
        if nid is None:
            problems.append(
                f"host {host}: lustre_nid is not set; set it to the host's NID on the first "
                "LNet network, e.g. 10.80.0.41@o2ib0"
            )
            continue
        address, _sep, net_name = nid.partition("@") if isinstance(nid, str) else ("", "", "")
        parsed = _parse_address(address)
        net = _lnet_net(net_name)
        if not isinstance(parsed, ipaddress.IPv4Address) or net is None:
            problems.append(
                f"host {host}: lustre_nid {show(nid)} is not <ipv4>@<net>; use e.g. "
                "10.80.0.41@o2ib0 (the host's IPoIB address) or 10.77.0.21@tcp0"
            )
            continue
        if names is not None and net not in names:
            problems.append(
                f"host {host}: lustre_nid {show(nid)} is on {net_name}, which is not in "
                f"lnet_networks ({', '.join(names.values()) or 'none'}); fix the NID or add "
                "the network"
            )
        elif names and net != next(iter(names)):
            first = names[next(iter(names))]
            problems.append(
                f"host {host}: lustre_nid {show(nid)} is on {net_name}, not on {first}, the "
                "first network of lnet_networks, where the lnet role gives the node its NID; "
                f"set lustre_nid to the host's address on {first}, or list {net_name} first"
            )
        nid_net[host] = net
        seen.append((f"{address}@{net}", host))
    for nid, owners in _duplicates(seen).items():
        problems.append(f"hosts {join_and(owners)} share lustre_nid {nid}; each needs its own")
    for host, partners in sorted(lustre_pairs(model).items()):
        for partner in sorted(partners):
            if (
                host < partner
                and host in nid_net
                and partner in nid_net
                and nid_net[host] != nid_net[partner]
            ):
                problems.append(
                    f"failover pair {host} and {partner}: lustre_nid on different LNet "
                    f"networks ({nid_net[host]} and {nid_net[partner]}); clients reach a "
                    "target through both NIDs: put both on the same network"
                )
    return problems


def check_fencing(model: InventoryModel) -> list[str]:
    """ha_cluster_fence on every Lustre server (STONITH is mandatory), the corosync authkey."""
    servers = _lustre_servers(model)
    if not servers or not _storage_configured(model):
        return []
    problems = []
    backend = model.site.get("lustre_server_backend", "lustre")
    secret_values = [v for v in model.secrets.values() if isinstance(v, str) and v]
    for host in servers:
        if f"{host}:ha_cluster_fence" in model.unresolved:
            continue
        fence = model.hosts.get(host, {}).get("ha_cluster_fence")
        where = f"host {host}: ha_cluster_fence"
        if not isinstance(fence, Mapping):
            problems.append(
                f"{where} is {show(fence)}; every Lustre server needs its fence device "
                "(STONITH is never off), e.g. {agent: fence_ipmilan, ip: <BMC>, username: "
                "admin, password: '{{ vault_bmc_password }}'}"
            )
            continue
        agent = fence.get("agent")
        if agent not in FENCE_AGENTS:
            problems.append(f"{where}: agent {show(agent)} is not one of {', '.join(FENCE_AGENTS)}")
            continue
        if agent == "fence_jovial_podman":
            if backend == "lustre":
                problems.append(
                    f"{where}: agent fence_jovial_podman only fences lab containers; with "
                    "lustre_server_backend lustre use fence_ipmilan or fence_redfish"
                )
            elif not isinstance(fence.get("container"), str) or not fence.get("container"):
                problems.append(f"{where}: container is not set; set it to the node's container")
            continue
        if not isinstance(
            _parse_address(fence.get("ip")), ipaddress.IPv4Address | ipaddress.IPv6Address
        ):
            problems.append(
                f"{where}: ip {show(fence.get('ip'))} is not an address; set the BMC's address"
            )
        if not isinstance(fence.get("username"), str) or not fence.get("username"):
            problems.append(f"{where}: username is not set; set the BMC user")
        password = fence.get("password")
        if not isinstance(password, str) or not password:
            problems.append(
                f"{where}: password is not set (value not shown); set password: "
                "'{{ vault_bmc_password }}' and that secret in group_vars/all/vault.yml"
            )
        elif password not in secret_values:
            problems.append(
                f"{where}: password is not a vault secret (value not shown); write password: "
                "'{{ vault_bmc_password }}' and list vault_bmc_password in "
                "jovial_required_secrets"
            )
    required = model.site.get("jovial_required_secrets")
    if "jovial_required_secrets" not in model.unresolved and _is_list(required):
        for name in LUSTRE_SECRETS:
            if name not in required:
                problems.append(
                    f"jovial_required_secrets does not list {name}; the failover pairs' "
                    "corosync needs it: add it there and its value to group_vars/all/vault.yml"
                )
    authkey = model.secrets.get("vault_ha_cluster_authkey")
    if isinstance(authkey, str) and authkey.strip() and not 128 <= len(authkey) <= 4096:
        size = "fewer than 128" if len(authkey) < 128 else "more than 4096"
        problems.append(
            f"vault_ha_cluster_authkey has {size} characters (value not shown); corosync takes "
            "a key of 128 to 4096: generate one with `openssl rand -base64 192` into "
            "group_vars/all/vault.yml"
        )
    for name, (choices, meaning) in HA_CLUSTER_CHOICES.items():
        if name in model.unresolved or name not in model.site:
            continue
        if model.site[name] not in choices:
            allowed = ", ".join(choices[:-1]) + " or " + choices[-1]
            problems.append(
                f"{name} {show(model.site[name])} is not {allowed} ({meaning}); fix it in "
                "group_vars/all"
            )
    return problems


def check_infiniband(model: InventoryModel) -> list[str]:
    """opensm: exactly two hosts with distinct opensm_priority 0-15; IPoIB interfaces."""
    ib_hosts = _group(model, "infiniband")
    if not ib_hosts:
        return []
    problems = []
    sm = _group(model, "opensm")
    if len(sm) != 2:
        problems.append(
            f"group opensm has {_hosts_word(len(sm))} ({join_and(sm)}); it needs exactly two "
            "InfiniBand hosts so that a subnet manager always runs"
        )
    priorities: list[tuple[int, str]] = []
    for host in sm:
        if host not in ib_hosts:
            problems.append(f"host {host} is in opensm but not in infiniband; add it there")
        if f"{host}:opensm_priority" in model.unresolved:
            continue
        value = model.hosts.get(host, {}).get("opensm_priority")
        if not _is_int(value) or not 0 <= value <= OPENSM_PRIORITY_MAX:
            problems.append(
                f"host {host}: opensm_priority {show(value)} is not an integer 0-15; set 15 on "
                "the preferred subnet manager and a lower value on the other"
            )
        else:
            priorities.append((value, host))
    for value, hosts in _duplicates(priorities).items():
        problems.append(
            f"hosts {join_and(hosts)} share opensm_priority {value}; give them different "
            "priorities so the master is deterministic"
        )
    addresses: list[tuple[Any, str]] = []
    for host in ib_hosts:
        names: list[tuple[str, str]] = []
        if f"{host}:infiniband_ipoib_interfaces" in model.unresolved:
            continue
        value = model.hosts.get(host, {}).get("infiniband_ipoib_interfaces")
        if value is None:
            continue
        where = f"host {host}: infiniband_ipoib_interfaces"
        if not _is_list(value):
            problems.append(f"{where}: expected a list of {{name, address}}, {_got(value)}")
            continue
        for position, item in enumerate(value):
            if not isinstance(item, Mapping):
                problems.append(f"{where}[{position}]: expected a mapping, {_got(item)}")
                continue
            name, address = item.get("name"), item.get("address")
            if not isinstance(name, str) or not re.match(r"^ib[0-9a-z.]+$", name):
                problems.append(
                    f"{where}[{position}]: name {show(name)} is not an IPoIB interface (ib0, "
                    "ib1, ib0.8001)"
                )
            else:
                names.append((name, name))
            try:
                interface = ipaddress.ip_interface(address) if isinstance(address, str) else None
            except ValueError:
                interface = None
            if interface is None or "/" not in address:
                problems.append(
                    f"{where}[{position}]: address {show(address)} is not address/prefix "
                    "(e.g. 10.80.0.41/16)"
                )
            elif role := _reserved_role(interface.ip, interface.network):
                problems.append(
                    f"{where}[{position}]: address {show(address)} is the {role} address of "
                    f"{interface.network}; use a host address (e.g. 10.80.0.41/16)"
                )
            else:
                addresses.append((interface.ip, host))
            mode = item.get("mode", "datagram")
            if mode not in IPOIB_MTU_MAX:
                problems.append(
                    f"{where}[{position}]: mode {show(item.get('mode'))} is not datagram or "
                    "connected"
                )
            mtu = item.get("mtu")
            top = IPOIB_MTU_MAX.get(mode, IPOIB_MTU_MAX["connected"])
            if mtu is not None and (not _is_int(mtu) or not IPOIB_MTU_MIN <= mtu <= top):
                problems.append(
                    f"{where}[{position}]: mtu {show(mtu)} is not an integer {IPOIB_MTU_MIN}-{top}"
                    f"{f' (the most {mode} mode carries)' if mode in IPOIB_MTU_MAX else ''}; "
                    "use 2044 (datagram) or 65520 (connected)"
                )
        for name, copies in _duplicates(names).items():
            problems.append(
                f"{where}: {name} is listed {len(copies)} times; list each interface once"
            )
    for address, hosts in _duplicates(addresses).items():
        problems.append(f"hosts {join_and(hosts)} share the IPoIB address {address}")
    return problems


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


# --------------------------------------------------------------------------------------------
# Common layer: the sshd baseline (roles/common, group_vars/all/ssh.yml)


@dataclass(frozen=True)
class SshList:
    """What one common_ssh_* list may hold: OpenSSH's names for it, usable or weak (and why)."""

    what: str  # in messages: "key exchange algorithm"
    usable: tuple[str, ...]
    weak: Mapping[str, str]


# Every name OpenSSH 9.2p1 of Debian 12 knows for each list (`ssh -Q kex`, `ssh -Q cipher`,
# `ssh -Q mac`, ssh-keygen's host key types; captured in tests/unit/fixtures/ssh/), either usable
# or weak. Weak: what ssh-audit 3.9 fails, or warns about for more than lacking post-quantum
# protection, plus ciphers that are neither AEAD nor CTR and MACs that are not encrypt-then-MAC.
# The baseline (roles/common/defaults/main.yml) uses the strongest usable ones; the others stay
# usable for old clients. Names match exactly: sshd's +, - and ^ prefixes edit its built-in
# list, and the baseline replaces that list.
SSH_LISTS: dict[str, SshList] = {
    "common_ssh_kex_algorithms": SshList(
        what="key exchange algorithm",
        usable=(
            "sntrup761x25519-sha512@openssh.com",
            "sntrup761x25519-sha512",
            "curve25519-sha256",
            "curve25519-sha256@libssh.org",
            "diffie-hellman-group16-sha512",
            "diffie-hellman-group18-sha512",
            "diffie-hellman-group-exchange-sha256",
        ),
        weak={
            "diffie-hellman-group1-sha1": "1024-bit group and SHA-1",
            "diffie-hellman-group14-sha1": "SHA-1",
            "diffie-hellman-group14-sha256": "2048-bit group, 112-bit strength",
            "diffie-hellman-group-exchange-sha1": "SHA-1",
            "ecdh-sha2-nistp256": "NIST P-curve ECDH",
            "ecdh-sha2-nistp384": "NIST P-curve ECDH",
            "ecdh-sha2-nistp521": "NIST P-curve ECDH",
        },
    ),
    "common_ssh_ciphers": SshList(
        what="cipher",
        usable=(
            "chacha20-poly1305@openssh.com",
            "aes256-gcm@openssh.com",
            "aes128-gcm@openssh.com",
            "aes256-ctr",
            "aes192-ctr",
            "aes128-ctr",
        ),
        weak={
            "3des-cbc": "64-bit block cipher in CBC mode",
            "aes128-cbc": "CBC mode, neither AEAD nor CTR",
            "aes192-cbc": "CBC mode, neither AEAD nor CTR",
            "aes256-cbc": "CBC mode, neither AEAD nor CTR",
        },
    ),
    "common_ssh_macs": SshList(
        what="MAC",
        usable=(
            "hmac-sha2-512-etm@openssh.com",
            "hmac-sha2-256-etm@openssh.com",
            "umac-128-etm@openssh.com",
        ),
        weak={
            "hmac-sha1": "SHA-1, encrypt-and-MAC",
            "hmac-sha1-96": "SHA-1 cut to 96 bits, encrypt-and-MAC",
            "hmac-sha2-256": "encrypt-and-MAC",
            "hmac-sha2-512": "encrypt-and-MAC",
            "hmac-md5": "MD5, encrypt-and-MAC",
            "hmac-md5-96": "MD5 cut to 96 bits, encrypt-and-MAC",
            "umac-64@openssh.com": "64-bit tag, encrypt-and-MAC",
            "umac-128@openssh.com": "encrypt-and-MAC",
            "hmac-sha1-etm@openssh.com": "SHA-1",
            "hmac-sha1-96-etm@openssh.com": "SHA-1 cut to 96 bits",
            "hmac-md5-etm@openssh.com": "MD5",
            "hmac-md5-96-etm@openssh.com": "MD5 cut to 96 bits",
            "umac-64-etm@openssh.com": "64-bit tag",
        },
    ),
    "common_ssh_host_key_types": SshList(
        what="host key type",
        usable=("ed25519", "rsa"),
        weak={
            "ecdsa": "NIST P-curve ECDSA",
            "dsa": "1024-bit DSA, refused by OpenSSH since 7.0",
        },
    ),
}


def _ssh_list_problems(name: str, value: Any, spec: SshList, where: str) -> list[str]:
    """Problems of one common_ssh_* value; where is '' (group_vars/all) or 'host x: '."""
    example = ", ".join(spec.usable[:2])
    if not _is_list(value):
        return [
            f"{where}{name}: expected a list of {spec.what}s, {_got(value)}; "
            f"write a YAML list, e.g. [{example}]"
        ]
    if not value:
        return [
            f"{where}{name} is empty; sshd needs at least one {spec.what}: list the ones to "
            f"offer, e.g. [{example}] (roles/common/defaults/main.yml holds the baseline)"
        ]
    problems = []
    for position, item in enumerate(value):
        if not isinstance(item, str):
            problems.append(
                f"{where}{name}[{position}] {show(item)} is not a {spec.what} name; "
                f"write OpenSSH's name, e.g. {spec.usable[0]}"
            )
        elif item in spec.weak:
            problems.append(
                f"{where}{name}: {show(item)} is weak ({spec.weak[item]}); remove it "
                f"(usable: {join_and(spec.usable)})"
            )
        elif item not in spec.usable:
            prefix = (
                " (a +, - or ^ prefix edits sshd's built-in list; the baseline replaces it, "
                "so list full names)"
                if item[:1] in ("+", "-", "^")
                else ""
            )
            problems.append(
                f"{where}{name}: {show(item)} is not a {spec.what} that OpenSSH 9.2 "
                f"(Debian 12) knows{prefix}; use one of {join_and(spec.usable)}"
            )
    return problems


def check_ssh(model: InventoryModel) -> list[str]:
    """The sshd baseline: each common_ssh_* list is a non-empty list of names OpenSSH knows,
    none of them weak. Checked once as set in group_vars/all (or the common role's default),
    then for each host whose value differs (set for a group or the host)."""
    problems: list[str] = []
    for name, spec in SSH_LISTS.items():
        site_set = name in model.site and name not in model.unresolved
        if site_set:
            problems.extend(_ssh_list_problems(name, model.site[name], spec, ""))
        for host in managed_hosts(model):
            host_vars = model.hosts.get(host)
            if not isinstance(host_vars, Mapping) or name not in host_vars:
                continue
            if f"{host}:{name}" in model.unresolved:
                continue
            if site_set and host_vars[name] == model.site[name]:
                continue  # the group_vars/all value, checked above
            problems.extend(_ssh_list_problems(name, host_vars[name], spec, f"host {host}: "))
    return problems


# --------------------------------------------------------------------------------------------
# Proxy layer: the front door (roles nginx_proxy and keepalived)

_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})$")
PROXY_TLS_SOURCES: tuple[str, ...] = ("site_ca", "files")
# Any of these set by the inventory means the site configures the proxy layer
# (group_vars/all/proxy.yml); nginx_proxy_vip_name and nginx_proxy_tls_source have role defaults.
PROXY_SETTINGS: tuple[str, ...] = (
    "nginx_proxy_server_name",
    "nginx_proxy_upstreams",
    "nginx_proxy_vip_name",
    "nginx_proxy_tls_source",
)


def _is_dns_name(value: Any) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= 253
        and all(_DNS_LABEL.match(label) for label in value.split("."))
    )


def _proxy_vip(model: InventoryModel, vip_name: str, problems: list[str]) -> None:
    """The proxy VIP exists and is carried by exactly the hosts of group proxy."""
    vips = model.site.get("jovial_vips")
    if "jovial_vips" in model.unresolved or (vips is not None and not _is_list(vips)):
        return  # reported by check_unresolved or check_vips
    entry = next(
        (v for v in vips or [] if isinstance(v, Mapping) and v.get("name") == vip_name), None
    )
    if entry is None:
        problems.append(
            f"proxy: no jovial_vips entry is named '{vip_name}' (nginx_proxy_vip_name); add the "
            "front door's VIP to jovial_vips with group: proxy"
        )
        return
    group = entry.get("group")
    if not isinstance(group, str) or group not in model.groups:
        return  # reported by check_vips
    proxies = sorted(_group(model, "proxy"))
    carriers = sorted(_group(model, group))
    if carriers != proxies:
        problems.append(
            f"jovial_vips[{vip_name}]: carried by group {group} "
            f"({join_and(carriers) if carriers else 'none'}) but group proxy is "
            f"{join_and(proxies)}; the front door's VIP must move between exactly the proxy "
            "hosts: set its group to proxy"
        )


def _proxy_upstreams(model: InventoryModel, problems: list[str]) -> None:
    if "nginx_proxy_upstreams" in model.unresolved:
        return
    value = model.site.get("nginx_proxy_upstreams")
    example = "['hub01:8000']"
    if value is None or (_is_list(value) and not value):
        problems.append(
            "nginx_proxy_upstreams is not set; list the host:port of the service behind the "
            f"front door in group_vars/all/proxy.yml, e.g. {example}"
        )
        return
    if not _is_list(value):
        problems.append(
            f"nginx_proxy_upstreams: expected a list of host:port, {_got(value)}; "
            f"write it as e.g. {example}"
        )
        return
    for position, item in enumerate(value):
        match = _HOST_PORT.match(item) if isinstance(item, str) else None
        if match is None or not 1 <= int(match["port"]) <= 65535:
            problems.append(
                f"nginx_proxy_upstreams[{position}]: {show(item)} is not host:port; "
                "write e.g. 'hub01:8000'"
            )


def _proxy_certificate(model: InventoryModel, problems: list[str]) -> None:
    if "nginx_proxy_tls_source" in model.unresolved:
        return
    source = model.site.get("nginx_proxy_tls_source")
    if source not in PROXY_TLS_SOURCES:
        problems.append(
            f"nginx_proxy_tls_source {show(source)} is not site_ca or files; use site_ca (a "
            "certificate from the site CA) or files (nginx_proxy_tls_cert_file and _key_file)"
        )
        return
    if source == "site_ca":
        if "jovial_pki_dir" not in model.unresolved and not model.site.get("jovial_pki_dir"):
            problems.append(
                "jovial_pki_dir is not set and nginx_proxy_tls_source is site_ca; set "
                "jovial_pki_dir in group_vars/all/site.yml to the site CA's directory on the "
                "control node"
            )
        return
    for variable, what in (
        ("nginx_proxy_tls_cert_file", "PEM certificate chain"),
        ("nginx_proxy_tls_key_file", "PEM private key"),
    ):
        if variable in model.unresolved:
            continue
        value = model.site.get(variable)
        if value is None or value == "":
            problems.append(
                f"{variable} is not set and nginx_proxy_tls_source is files; set it to the "
                f"absolute path of the front door's {what} on the control node"
            )
        elif not isinstance(value, str) or not value.startswith("/"):
            problems.append(
                f"{variable} {show(value)} is not an absolute path; set it to the absolute "
                f"path of the front door's {what} on the control node"
            )


def check_proxy(model: InventoryModel) -> list[str]:
    """The front door, when group proxy has hosts: the VIP named nginx_proxy_vip_name exists and
    is carried by exactly group proxy, nginx_proxy_server_name is a DNS name, the upstreams are
    host:port (with TLS, under a name nginx can check), and the certificate inputs fit
    nginx_proxy_tls_source."""
    if not _group(model, "proxy"):
        return []  # no front door at this site
    problems: list[str] = []
    vip_name = model.site.get("nginx_proxy_vip_name")
    if "nginx_proxy_vip_name" not in model.unresolved:
        if isinstance(vip_name, str) and vip_name:
            _proxy_vip(model, vip_name, problems)
        else:
            problems.append(
                f"nginx_proxy_vip_name {show(vip_name)} is not a VIP name; set it to the name "
                "of the front door's jovial_vips entry (proxy)"
            )

    if "nginx_proxy_server_name" not in model.unresolved:
        name = model.site.get("nginx_proxy_server_name")
        if name is None or name == "":
            problems.append(
                "nginx_proxy_server_name is not set; set it in group_vars/all/proxy.yml to the "
                "name users type (e.g. jupyter.obs.example.org)"
            )
        elif not _is_dns_name(name):
            problems.append(
                f"nginx_proxy_server_name {show(name)} is not a DNS name; use dot-separated "
                "labels of letters, digits and '-' (e.g. jupyter.obs.example.org)"
            )
    _proxy_upstreams(model, problems)
    _proxy_upstream_tls(model, problems)
    _proxy_certificate(model, problems)
    return problems


_TLS_NAME = re.compile(r"^[A-Za-z0-9.-]+$")


def _proxy_upstream_tls(model: InventoryModel, problems: list[str]) -> None:
    """With TLS to the upstreams (the nginx_proxy role's default), the name nginx checks in
    their certificates (by default the first upstream's host)."""
    name = model.site.get("nginx_proxy_upstream_tls_name")
    if (
        not model.site.get("nginx_proxy_upstream_tls")
        or "nginx_proxy_upstream_tls_name" in model.unresolved
        or "nginx_proxy_upstream_tls_name" not in model.site
        or (isinstance(name, str) and _TLS_NAME.match(name))
    ):
        return
    problems.append(
        f"nginx_proxy_upstream_tls_name {show(name)} is not a DNS name; set it to the name the "
        "upstreams' certificates carry (nginx checks it), or nginx_proxy_upstream_tls: false "
        "for a plain-HTTP test upstream"
    )


# --------------------------------------------------------------------------------------------
# LDAP layer (docs/inventory.md, "LDAP")

LDAP_SECRETS: tuple[str, ...] = (
    "vault_jovial_ca_passphrase",
    "vault_ldap_reader_password",
    "vault_ldap_replicator_password",
)
# The service accounts' passwords: 12 characters or more (the ldap_server role's floor).
LDAP_SERVICE_SECRETS: tuple[str, ...] = (
    "vault_ldap_reader_password",
    "vault_ldap_replicator_password",
)
_LDAP_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
_BASE_DN = re.compile(r"^(dc|o|ou)=[^,]+(,(dc|o|ou)=[^,]+)*$")


def _ldap_configured(model: InventoryModel) -> bool:
    return bool(_group(model, "ldap_server")) or "ldap_base_dn" in model.site


def check_ldap_providers(model: InventoryModel) -> list[str]:
    """Exactly two hosts in ldap_server (a replicated provider pair) when LDAP is configured."""
    if not _ldap_configured(model):
        return []
    members = _group(model, "ldap_server")
    problems = []
    if len(members) != 2:
        listed = f" ({join_and(members)})" if members else ""
        problems.append(
            f"group ldap_server has {_hosts_word(len(members))}{listed}; the LDAP layer needs "
            "exactly two providers (a replicated pair): put two hosts in ldap_server in hosts.yml"
        )
    if not members:
        return problems
    providers = model.site.get("ldap_providers")
    if (
        "ldap_providers" not in model.unresolved
        and providers is not None
        and (not _is_list(providers) or sorted(map(str, providers)) != sorted(members))
    ):
        problems.append(
            f"ldap_providers {show(providers)} is not the hosts of group ldap_server "
            f"({join_and(members)}); playbooks/ldap.yml runs the providers on that group: "
            "remove ldap_providers (the group is its default) or list exactly those hosts"
        )
    writer = model.site.get("ldap_write_provider")
    if (
        "ldap_write_provider" not in model.unresolved
        and writer is not None
        and writer not in members
    ):
        problems.append(
            f"ldap_write_provider {show(writer)} is not a host of group ldap_server "
            f"({join_and(members)}); set it to one of them (directory writes go there) or "
            "remove it (the first provider is the default)"
        )
    return problems


def _id_bounds(model: InventoryModel, variable: str) -> tuple[int, int] | None:
    value = model.site.get(variable)
    if not isinstance(value, Mapping):
        return None
    low, high = value.get("min"), value.get("max")
    if _is_int(low) and _is_int(high) and low < high:
        return low, high
    return None


def _ldap_entries(
    model: InventoryModel, variable: str, problems: list[str]
) -> list[tuple[str, Mapping]]:
    """(label, entry) of each well-formed mapping of ldap_users / ldap_groups."""
    value = model.site.get(variable)
    if variable in model.unresolved or value is None:
        return []
    if not _is_list(value):
        problems.append(f"{variable}: expected a list of mappings, {_got(value)}")
        return []
    found = []
    for position, item in enumerate(value):
        if not isinstance(item, Mapping):
            problems.append(f"{variable}[{position}]: expected a mapping, {_got(item)}")
            continue
        name = item.get("name")
        label = (
            f"{variable}[{name}]" if isinstance(name, str) and name else f"{variable}[{position}]"
        )
        if not isinstance(name, str) or not _LDAP_NAME.match(name):
            problems.append(
                f"{label}: name {show(name)} is not a POSIX name; use up to 32 lowercase "
                "letters, digits, '_', '.' and '-', starting with a letter or '_'"
            )
        state = item.get("state", "present")
        if state not in ("present", "absent"):
            problems.append(
                f"{label}: state {show(state)} is not present or absent; write state: absent "
                "to remove the entry from the directory, or leave state out"
            )
        found.append((label, item))
    return found


def _check_ldap_ids(
    entries: list[tuple[str, Mapping]], key: str, variable: str, bounds: tuple[int, int] | None
) -> list[str]:
    problems = []
    seen: list[tuple[int, str]] = []
    for label, item in entries:
        value = item.get(key)
        if not _is_int(value):
            problems.append(
                f"{label}: {key} {show(value)} is not an integer; write a number without quotes"
            )
            continue
        if bounds and not bounds[0] <= value <= bounds[1]:
            problems.append(
                f"{label}: {key} {value} is outside {variable} ({bounds[0]}-{bounds[1]}); "
                f"pick a free {key} inside it"
            )
        seen.append((value, label))
    for value, labels in _duplicates(seen).items():
        problems.append(f"{key} {value} is used by {join_and(labels)}; give each its own {key}")
    return problems


def check_ldap_directory(model: InventoryModel) -> list[str]:
    """ldap_groups / ldap_users: POSIX names, unique ids inside the ranges, groups that exist."""
    problems: list[str] = []
    groups = _ldap_entries(model, "ldap_groups", problems)
    users = _ldap_entries(model, "ldap_users", problems)
    for variable, entries in (("ldap_groups", groups), ("ldap_users", users)):
        names = [
            (item.get("name"), label)
            for label, item in entries
            if isinstance(item.get("name"), str)
        ]
        for name, labels in _duplicates(names).items():
            problems.append(
                f"{variable}: '{name}' is defined {len(labels)} times; define it once "
                "(state: absent removes it)"
            )
    problems += _check_ldap_ids(
        groups, "gid", "jovial_gid_range", _id_bounds(model, "jovial_gid_range")
    )
    problems += _check_ldap_ids(
        users, "uid", "jovial_uid_range", _id_bounds(model, "jovial_uid_range")
    )

    present = sorted(
        item["name"]
        for _group, item in groups
        if isinstance(item.get("name"), str) and item.get("state", "present") == "present"
    )
    choices = ", ".join(present) or "(none)"
    for label, user in users:
        if user.get("state", "present") != "present":
            continue
        primary = user.get("group")
        if primary not in present:
            problems.append(
                f"{label}: primary group {show(primary)} is not a present group of ldap_groups; "
                f"set group to one of: {choices} (or add the group)"
            )
        extra = user.get("groups", [])
        if not _is_list(extra):
            problems.append(f"{label}: groups: expected a list of group names, {_got(extra)}")
        else:
            for name in extra:
                if name not in present:
                    problems.append(
                        f"{label}: supplementary group {show(name)} is not a present group of "
                        f"ldap_groups; use one of: {choices} (or add the group)"
                    )
        password = user.get("password")
        if not isinstance(password, str) or not password.strip():
            problems.append(
                f"{label}: password is not set (value not shown); set password: "
                f'"{{{{ vault_ldap_password_{user.get("name")} }}}}" and that secret in '
                "group_vars/all/vault.yml"
            )
    return problems


def check_ldap_tls(model: InventoryModel) -> list[str]:
    """Clients use ldaps:// URIs; the site CA and the LDAP secrets the providers need are set."""
    if "ldap_base_dn" not in model.site:
        return []
    problems = []
    base_dn = model.site.get("ldap_base_dn")
    if "ldap_base_dn" not in model.unresolved and not (
        isinstance(base_dn, str) and _BASE_DN.match(base_dn)
    ):
        problems.append(
            f"ldap_base_dn {show(base_dn)} is not a DN of dc=, o= or ou= parts; set it in "
            "group_vars/all/ldap.yml to e.g. dc=obs,dc=example,dc=org"
        )
    if "jovial_pki_dir" not in model.unresolved and not model.site.get("jovial_pki_dir"):
        problems.append(
            "jovial_pki_dir is not set; the LDAP providers' certificates are issued by the site "
            "CA kept there: set it in group_vars/all/site.yml"
        )
    uris = model.site.get("ldap_uris")
    if "ldap_uris" not in model.unresolved and uris is None:
        problems.append(
            "ldap_uris is not set; every node's SSSD and the hubs find the directory there: "
            "list the providers (or their VIP) in group_vars/all/ldap.yml, e.g. "
            "[ldaps://core1.example.org]"
        )
    elif "ldap_uris" not in model.unresolved:
        if not _is_list(uris) or not uris:
            problems.append(
                f"ldap_uris: expected a non-empty list of ldaps:// URIs, {_got(uris)}; list "
                "the providers (or their VIP), e.g. [ldaps://core1.example.org]"
            )
        else:
            for position, uri in enumerate(uris):
                if not isinstance(uri, str) or not re.match(r"^ldaps://[^/\s]+/?$", uri):
                    problems.append(
                        f"ldap_uris[{position}] {show(uri)} is not an ldaps:// URI; clients "
                        "must reach the providers over TLS: use ldaps://<provider name>"
                    )
    required = model.site.get("jovial_required_secrets")
    if "jovial_required_secrets" not in model.unresolved and _is_list(required):
        for name in LDAP_SECRETS:
            if name not in required:
                problems.append(
                    f"jovial_required_secrets does not list {name}; the LDAP layer needs it: "
                    "add it there and its value to group_vars/all/vault.yml"
                )
    for name in LDAP_SERVICE_SECRETS:
        secret = model.secrets.get(name)
        if isinstance(secret, str) and secret.strip() and len(secret) < 12:
            problems.append(
                f"{name} has fewer than 12 characters (value not shown); set a random string of "
                "12+ characters in group_vars/all/vault.yml"
            )
    return problems


# --------------------------------------------------------------------------------------------
# JupyterHub layer, Kubernetes backend (docs/inventory.md, "JupyterHub")

_K8S_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_HUB_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
NODE_PORT_RANGE = (30000, 32767)


def _hub_sizes() -> tuple[Callable[[Any], Any], Callable[[Mapping[str, Any]], list[str]]] | None:
    """parse_quantity and hub_problems of the jovial_hub package (installed in the control
    node's .venv by `make deps`), or None when it cannot be imported."""
    try:
        from jovial_hub.kube import hub_problems, parse_quantity
    except ImportError:
        return None
    return parse_quantity, hub_problems


# A Kubernetes hub is served under /<name>/ beside the default hub's own paths.
RESERVED_HUB_NAMES: tuple[str, ...] = ("hub", "user", "users", "services", "healthz", "status")


def check_jupyterhub_hubs(model: InventoryModel) -> list[str]:
    """The hubs on Kubernetes (jupyterhub_hubs; required with jupyterhub_backend kubernetes):
    every entry has a unique name (not a path the front door's default hub uses), namespace
    and NodePort, a quota (cpu, memory, pods) and profiles that fit its LimitRange and quota,
    and the hubs' quotas together fit what the kube_node workers declare
    (kube_node_allocatable)."""
    if "jupyterhub_hubs" in model.unresolved:
        return []
    hubs = model.site.get("jupyterhub_hubs")
    kubernetes_backend = model.site.get("jupyterhub_backend") == "kubernetes"
    if not kubernetes_backend and (hubs is None or hubs == []):
        return []
    if not _is_list(hubs) or (kubernetes_backend and not hubs):
        return [
            f"jupyterhub_hubs is {show(hubs)}; with jupyterhub_backend kubernetes list at least "
            "one hub (name, namespace, node_port, quota, limitrange, profiles; docs/inventory.md)"
        ]
    sizes = _hub_sizes()
    if sizes is None:
        return [
            "jupyterhub_hubs cannot be checked: the jovial_hub package is not importable on the "
            "control node; run 'make deps' and use .venv/bin/ansible-playbook"
        ]
    parse_quantity, hub_problems = sizes
    problems: list[str] = []
    names: list[tuple[Any, str]] = []
    namespaces: list[tuple[Any, str]] = []
    ports: list[tuple[Any, str]] = []
    totals = {"cpu": 0, "memory": 0}
    for position, hub in enumerate(hubs):
        if not isinstance(hub, Mapping):
            problems.append(f"jupyterhub_hubs[{position}] is {_got(hub)}; each hub is a mapping")
            continue
        label = _item_label("jupyterhub_hubs", position, hub.get("name"))
        name, namespace, port = hub.get("name"), hub.get("namespace"), hub.get("node_port")
        if not isinstance(name, str) or not _HUB_NAME.match(name):
            problems.append(
                f"{label}: name {show(name)} is not a hub name; use 1-20 lowercase letters, "
                "digits and '-', starting with a letter (e.g. astro)"
            )
        elif name in RESERVED_HUB_NAMES:
            problems.append(
                f"{label}: name {show(name)} is a path of the front door's default hub "
                f"(https://<front door>/{name}/); choose another name (e.g. astro)"
            )
        else:
            names.append((name, label))
        if not isinstance(namespace, str) or not _K8S_NAME.match(namespace):
            problems.append(
                f"{label}: namespace {show(namespace)} is not a Kubernetes namespace name; use "
                "lowercase letters, digits and '-' (e.g. hub-astro)"
            )
        else:
            namespaces.append((namespace, label))
        if not _is_int(port) or not NODE_PORT_RANGE[0] <= port <= NODE_PORT_RANGE[1]:
            problems.append(
                f"{label}: node_port {show(port)} is not a NodePort; use a free port in "
                f"{NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}"
            )
        else:
            ports.append((port, label))
        quota = hub.get("quota")
        if not isinstance(quota, Mapping) or not all(k in quota for k in ("cpu", "memory", "pods")):
            problems.append(
                f"{label}: quota is {show(quota)}; set quota: {{cpu, memory, pods}} (what all "
                "the hub's pods may request together)"
            )
            continue
        problems.extend(f"{label}: {text}" for text in hub_problems(hub))
        for key in totals:
            with contextlib.suppress(ValueError, TypeError):  # reported by hub_problems
                totals[key] += parse_quantity(quota[key])
    for kind, seen in (("name", names), ("namespace", namespaces), ("node_port", ports)):
        for value, labels in _duplicates(seen).items():
            problems.append(
                f"jupyterhub_hubs: {join_and(labels)} share the {kind} {show(value)}; "
                f"each hub needs its own {kind}"
            )
    problems.extend(_hub_capacity(model, totals, parse_quantity))
    user_namespaces = model.site.get("kubernetes_user_namespaces")
    if "kubernetes_user_namespaces" not in model.unresolved and _is_list(user_namespaces):
        for namespace, label in namespaces:
            if namespace not in user_namespaces:
                problems.append(
                    f"{label}: namespace {show(namespace)} is not in kubernetes_user_namespaces "
                    f"{show(user_namespaces)}; the hub deploys into a namespace the kubernetes "
                    "layer makes (Pod Security, default deny): add it there, or leave "
                    "kubernetes_user_namespaces to its default (every hub's namespace)"
                )
    return problems


JUPYTERHUB_BACKENDS: tuple[str, ...] = ("systemd", "kubernetes")
JUPYTERHUB_SECRET = "vault_jupyterhub_proxy_token"
JUPYTERHUB_VERIFY_SECRET = "vault_jupyterhub_verify_token"
_NOT_SET = object()  # a setting check_jupyterhub skips: unresolved, or not given to the model


def check_jupyterhub(model: InventoryModel) -> list[str]:
    """The hub of the jupyterhub hosts, where the site has a directory: a known backend, the
    directory it logs users in against (jupyterhub_ldap_uris and _base_dn, which follow
    ldap_uris and ldap_base_dn), an absolute home root, a uid floor above the system range, and
    its proxy token (and the optional verify token) as listed vault secrets of 32+ characters.
    The jupyterhub_* settings are the role's defaults unless the inventory sets them
    (ROLE_DEFAULTS)."""
    problems: list[str] = []
    backend = model.site.get("jupyterhub_backend")
    if (
        "jupyterhub_backend" not in model.unresolved
        and backend is not None
        and backend not in JUPYTERHUB_BACKENDS
    ):
        problems.append(
            f"jupyterhub_backend {show(backend)} is not systemd or kubernetes; use systemd (the "
            "hub on the jupyterhub hosts) or kubernetes (the hubs of jupyterhub_hubs)"
        )
    if not _group(model, "jupyterhub") or not _ldap_configured(model):
        # The hub logs users in against the directory: without one (no ldap_server hosts, no
        # ldap_base_dn) the inventory does not configure the hub layer, e.g. the storage
        # scenario, whose hub node is in group jupyterhub for its root access only.
        return problems
    site = model.site

    def setting(name: str) -> Any:
        return _NOT_SET if name in model.unresolved or name not in site else site[name]

    uris = setting("jupyterhub_ldap_uris")
    if uris is not _NOT_SET and (not _is_list(uris) or not uris):
        problems.append(
            f"jupyterhub_ldap_uris is {show(uris)}; the hub logs users in against the directory: "
            "set ldap_uris in group_vars/all/ldap.yml (the hub follows it)"
        )
    base_dn = setting("jupyterhub_ldap_base_dn")
    if base_dn is not _NOT_SET and (not isinstance(base_dn, str) or not base_dn.strip()):
        problems.append(
            f"jupyterhub_ldap_base_dn is {show(base_dn)}; the hub looks users up under the "
            "directory's base DN: set ldap_base_dn in group_vars/all/ldap.yml (the hub follows it)"
        )
    home = setting("jupyterhub_home_root")
    if home is not _NOT_SET and (not isinstance(home, str) or not home.startswith("/")):
        problems.append(
            f"jupyterhub_home_root {show(home)} is not an absolute path; set ldap_home_root in "
            "group_vars/all/ldap.yml (the hub follows it) to where the users' homes are"
        )
    floor = setting("jupyterhub_min_uid")
    if isinstance(floor, str) and floor.strip().isdigit():
        floor = int(floor)
    if floor is not _NOT_SET and (not _is_int(floor) or floor < ID_RANGE_FLOOR):
        problems.append(
            f"jupyterhub_min_uid is {show(site['jupyterhub_min_uid'])}; the hub spawns no "
            f"server below this uid: set a whole number of at least {ID_RANGE_FLOOR} (the "
            "start of jovial_uid_range, 10000, is usual)"
        )
    required = site.get("jovial_required_secrets")
    if (
        "jovial_required_secrets" not in model.unresolved
        and _is_list(required)
        and JUPYTERHUB_SECRET not in required
    ):
        problems.append(
            f"jovial_required_secrets does not list {JUPYTERHUB_SECRET}; the hub and its "
            "proxy authenticate each other with it: add it there and a random value of 32+ "
            "characters to group_vars/all/vault.yml"
        )
    for name in (JUPYTERHUB_SECRET, JUPYTERHUB_VERIFY_SECRET):
        secret = model.secrets.get(name)
        if isinstance(secret, str) and secret.strip() and len(secret) < 32:
            problems.append(
                f"{name} has fewer than 32 characters (value not shown); set a random string "
                "of 32+ characters in group_vars/all/vault.yml"
            )
    return problems


def check_dask_gateway(model: InventoryModel) -> list[str]:
    """Dask Gateway (group dask_gateway): each gateway host is a jupyterhub host of the systemd
    backend (users' clusters run there from the users' environment, and the hub there is the
    gateway's way in), its JupyterHub service token is a listed vault secret, and its limits
    are whole numbers in range."""
    gateways = _group(model, "dask_gateway")
    if not gateways:
        return []
    problems: list[str] = []
    hubs = set(_group(model, "jupyterhub"))
    for host in gateways:
        if host not in hubs:
            problems.append(
                f"{host} is in group dask_gateway but not in group jupyterhub; the gateway runs "
                "users' clusters from the users' environment of a hub node and is reached through "
                f"that hub: add {host} to jupyterhub, or remove it from dask_gateway"
            )
    backend = model.site.get("jupyterhub_backend")
    if "jupyterhub_backend" not in model.unresolved and backend not in (None, "systemd"):
        problems.append(
            f"group dask_gateway has {join_and(gateways)} but jupyterhub_backend is "
            f"{show(backend)}; Dask Gateway runs beside the systemd backend's hub (Dask on "
            "Kubernetes is not built yet): set jupyterhub_backend: systemd or empty group "
            "dask_gateway"
        )
    required = model.site.get("jovial_required_secrets")
    if "jovial_required_secrets" not in model.unresolved and _is_list(required):
        if DASK_GATEWAY_SECRET not in required:
            problems.append(
                f"jovial_required_secrets does not list {DASK_GATEWAY_SECRET}; the gateway's "
                "JupyterHub service token: add it there and a random value of 32+ characters "
                "to group_vars/all/vault.yml"
            )
        elif len(str(model.secrets.get(DASK_GATEWAY_SECRET) or "")) < 32:
            problems.append(
                f"{DASK_GATEWAY_SECRET} has fewer than 32 characters (value not shown); set a "
                "random string of 32+ characters in group_vars/all/vault.yml"
            )
    for name, least in DASK_GATEWAY_LIMITS.items():
        if name in model.unresolved or name not in model.site:
            continue
        value = model.site[name]
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not _is_int(value) or value < least:
            problems.append(
                f"{name} is {show(model.site[name])}; set a whole number of at least {least} "
                "(roles/dask_gateway/README.md)"
            )
    return problems


def _hub_capacity(
    model: InventoryModel, totals: Mapping[str, Any], parse_quantity: Callable[[Any], Any]
) -> list[str]:
    """The hubs' quotas together within the sum of kube_node_allocatable of the workers."""
    workers = _group(model, "kube_node")
    if not workers:
        return [
            "group kube_node is empty; the hubs on Kubernetes (jupyterhub_hubs) need the "
            "workers that run the users' pods (or list no hubs and use jupyterhub_backend: "
            "systemd)"
        ]
    problems: list[str] = []
    capacity = {"cpu": 0, "memory": 0}
    for host in workers:
        declared = model.hosts.get(host, {}).get("kube_node_allocatable")
        try:
            for key in capacity:
                capacity[key] += parse_quantity(declared[key])
        except (KeyError, TypeError, ValueError):
            problems.append(
                f"{host}: kube_node_allocatable is {show(declared)}; set what this worker offers "
                "to pods, e.g. {cpu: '60', memory: 480Gi} (capacity less system reservations)"
            )
    if problems:
        return problems
    for key, scale, unit in (("cpu", 1, " cores"), ("memory", 2**30, "Gi")):
        if totals[key] > capacity[key]:
            problems.append(
                f"jupyterhub_hubs: the quotas ask for {totals[key] / scale:.0f}{unit} of {key} "
                f"together but the kube_node workers declare {capacity[key] / scale:.0f}{unit} "
                "(kube_node_allocatable); lower the hubs' quota or add workers"
            )
    return problems


# --------------------------------------------------------------------------------------------
# Kubernetes layer (docs/inventory.md, "Kubernetes"; roles/kubernetes)

# The releases this code supports (1.35 and later refuse cgroup v1).
_KUBERNETES_VERSION = re.compile(r"v1\.(3[4-7])\.[0-9]+")
KUBERNETES_SUPPORTED = "v1.34 to v1.37"
KUBERNETES_SOURCES: tuple[str, ...] = ("packages", "mirror")
_MIRROR_SCHEMES: tuple[str, ...] = ("http://", "https://", "file://")
# Every file of <kubernetes_mirror_url>/<version>/ the role fetches; each needs a sha256 in
# kubernetes_checksums[<version>].
KUBERNETES_MIRROR_FILES: tuple[str, ...] = (
    "bin/kubeadm",
    "bin/kubelet",
    "bin/kubectl",
    "bin/crictl",
    "images/kube-apiserver.tar",
    "images/kube-controller-manager.tar",
    "images/kube-scheduler.tar",
    "images/kube-proxy.tar",
    "images/pause.tar",
    "images/coredns.tar",
    "images/kube-router.tar",
)
KUBERNETES_NODE_MASK_MAX = 28  # a /28 holds 14 pods
KUBERNETES_SYSTEM_NAMESPACES: tuple[str, ...] = (
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "default",
)
_DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_KUBERNETES_FILE = "group_vars/all/kubernetes.yml"
# The oldest external etcd kubeadm accepts (MinExternalEtcdVersion in kubeadm's
# cmd/kubeadm/app/constants, the same in v1.34.12, v1.35.4, v1.36.3 and v1.37.2); Debian
# bookworm's etcd packages are 3.4.
KUBEADM_MIN_EXTERNAL_ETCD = (3, 5, 24)


def _kubernetes_configured(model: InventoryModel) -> bool:
    return bool(_group(model, "kube_control_plane") or _group(model, "kube_node"))


class _Skip:
    """A setting check_kubernetes does not check: unresolved (check_unresolved reports it) or
    not set (reported once, by _kube_setting)."""


_SKIP = _Skip()


def _kube_setting(model: InventoryModel, name: str, problems: list[str]) -> Any:
    """The setting's value, or _SKIP (and a problem when it is not set at all)."""
    if name in model.unresolved:
        return _SKIP
    if name not in model.site:
        problems.append(
            f"{name} is not set and the kubernetes role has no default for it; set it in "
            f"{_KUBERNETES_FILE} (roles/kubernetes/defaults/main.yml describes it)"
        )
        return _SKIP
    return model.site[name]


def _kube_groups(model: InventoryModel, problems: list[str]) -> None:
    """Two or more control-plane nodes, a worker, and the external etcd cluster."""
    control_plane = _group(model, "kube_control_plane")
    if len(control_plane) < 2:
        shown = join_and(control_plane) if control_plane else "none"
        problems.append(
            f"group kube_control_plane has {_hosts_word(len(control_plane))} ({shown}); one "
            "control-plane node is a single point of failure for the whole cluster: put two "
            "or more (three is usual) hosts in kube_control_plane in hosts.yml"
        )
    if not _group(model, "kube_node"):
        problems.append(
            "group kube_node has no hosts; users' notebooks and Dask workers run on the "
            "Kubernetes workers: put the compute nodes in kube_node in hosts.yml"
        )
    if not _group(model, "etcd"):
        problems.append(
            "group etcd has no hosts; the Kubernetes control plane stores its state in the "
            "external etcd cluster: put 3 hosts in etcd in hosts.yml"
        )


def _kube_vip(model: InventoryModel, problems: list[str]) -> None:
    """The API's VIP (kubernetes_apiserver_vip_name) exists and kube_control_plane carries it.
    Its address and group size are check_vips' concern."""
    vip_name = _kube_setting(model, "kubernetes_apiserver_vip_name", problems)
    if vip_name is _SKIP or "jovial_vips" in model.unresolved:
        return
    if not isinstance(vip_name, str) or not vip_name:
        problems.append(
            f"kubernetes_apiserver_vip_name {show(vip_name)} is not a VIP name; set it to the "
            "name of the Kubernetes API's jovial_vips entry (e.g. kube-apiserver)"
        )
        return
    vips = model.site.get("jovial_vips")
    vips = vips if _is_list(vips) else []
    entry = next((v for v in vips if isinstance(v, Mapping) and v.get("name") == vip_name), None)
    if entry is None:
        problems.append(
            f"kubernetes: no jovial_vips entry is named '{vip_name}' "
            "(kubernetes_apiserver_vip_name); add the Kubernetes API's VIP to jovial_vips "
            "with group: kube_control_plane"
        )
        return
    group = entry.get("group")
    if not isinstance(group, str) or group not in model.groups:
        return  # reported by check_vips
    if group != "kube_control_plane":
        problems.append(
            f"jovial_vips[{vip_name}]: carried by group {group}, not kube_control_plane; the "
            "Kubernetes API's VIP must move between the control-plane nodes (HAProxy in front "
            "of kube-apiserver runs there): set its group to kube_control_plane"
        )


def _kube_subnet(model: InventoryModel, name: str, problems: list[str]) -> Network | None:
    """The pod or service subnet when it is an IPv4 network; appends problems about it."""
    value = _kube_setting(model, name, problems)
    if value is _SKIP:
        return None
    parsed = _parse_network(value)
    if isinstance(parsed, str):
        problems.append(f"{name} {show(value)} {parsed}")
        return None
    if parsed.version != 4:
        problems.append(
            f"{name} {show(value)} is not an IPv4 network; Jovial's clusters are IPv4 only: "
            "use a private IPv4 range no site network uses"
        )
        return None
    return parsed


def _kube_vip_addresses(model: InventoryModel) -> list[tuple[str, ipaddress.IPv4Address]]:
    """(label, address) of every jovial_vips entry whose address parses as IPv4."""
    vips = model.site.get("jovial_vips")
    if "jovial_vips" in model.unresolved or not _is_list(vips):
        return []
    found = []
    for position, vip in enumerate(vips):
        if not isinstance(vip, Mapping):
            continue
        address = _parse_address(vip.get("address"))
        if isinstance(address, ipaddress.IPv4Address):
            found.append((_item_label("jovial_vips", position, vip.get("name")), address))
    return found


def _kube_networks(model: InventoryModel, problems: list[str]) -> None:
    """Pod and service subnets: IPv4, apart from each other, the site networks and the VIPs;
    kubernetes_node_cidr_mask fits the pod subnet and gives every node a range."""
    pods = _kube_subnet(model, "kubernetes_pod_subnet", problems)
    services = _kube_subnet(model, "kubernetes_service_subnet", problems)
    if pods is not None and services is not None and pods.overlaps(services):
        problems.append(
            f"kubernetes_service_subnet {services} overlaps kubernetes_pod_subnet {pods}; pods "
            "and Services need separate ranges: move one of them"
        )
    networks = valid_networks(model)
    vips = _kube_vip_addresses(model)
    for name, subnet in (("kubernetes_pod_subnet", pods), ("kubernetes_service_subnet", services)):
        if subnet is None:
            continue
        clashes = [
            (net_name, net)
            for net_name, net in networks.items()
            if net.version == 4 and net.overlaps(subnet)
        ]
        for net_name, net in clashes:
            problems.append(
                f"{name} {subnet} overlaps jovial_networks[{net_name}] ({net}); nodes on that "
                "network would be unreachable from pods: pick a range no site network uses"
            )
        for label, address in vips:
            if address in subnet and not any(address in net for _clash, net in clashes):
                problems.append(
                    f"{name} {subnet} holds the address {address} of {label}; that VIP would "
                    "be unreachable from pods: pick a range without any VIP"
                )

    mask = _kube_setting(model, "kubernetes_node_cidr_mask", problems)
    if mask is _SKIP:
        return
    if not _is_int(mask):
        problems.append(
            f"kubernetes_node_cidr_mask {show(mask)} is not an integer; set the prefix length "
            "of each node's pod range (e.g. 24)"
        )
        return
    if pods is None:
        return
    if not pods.prefixlen < mask <= KUBERNETES_NODE_MASK_MAX:
        problems.append(
            f"kubernetes_node_cidr_mask {mask} must be larger than the prefix of "
            f"kubernetes_pod_subnet {pods} and at most {KUBERNETES_NODE_MASK_MAX}: each node "
            "gets a /<mask> of the pod subnet (a /28 holds 14 pods); use e.g. 24 with a /16"
        )
        return
    nodes = set(_group(model, "kube_control_plane")) | set(_group(model, "kube_node"))
    ranges = 2 ** (mask - pods.prefixlen)
    if ranges < len(nodes):
        problems.append(
            f"kubernetes_pod_subnet {pods} holds {ranges} node ranges of /{mask} "
            f"(kubernetes_node_cidr_mask) but kube_control_plane and kube_node have "
            f"{len(nodes)} nodes; use a larger pod subnet or a longer mask"
        )


def _kube_source(model: InventoryModel, problems: list[str]) -> None:
    """A supported kubernetes_version, and what its source needs: checksums of every mirror
    file, or a package version of that release."""
    version = _kube_setting(model, "kubernetes_version", problems)
    if version is not _SKIP and not (
        isinstance(version, str) and _KUBERNETES_VERSION.fullmatch(version)
    ):
        problems.append(
            f"kubernetes_version {show(version)} is not a supported release "
            f"({KUBERNETES_SUPPORTED}, written like v1.34.12); pin one in {_KUBERNETES_FILE}"
        )
        version = _SKIP
    source = _kube_setting(model, "kubernetes_source", problems)
    if source is _SKIP:
        return
    if source not in KUBERNETES_SOURCES:
        problems.append(
            f"kubernetes_source {show(source)} is not packages or mirror; use packages (the "
            "Kubernetes apt repository) or mirror (files on a site mirror checked against "
            "kubernetes_checksums)"
        )
    elif source == "mirror":
        _kube_mirror(model, version, problems)
    else:
        package = _kube_setting(model, "kubernetes_package_version", problems)
        if version is _SKIP or package is _SKIP:
            return
        release = version[1:]
        if not isinstance(package, str) or not package.startswith(f"{release}-"):
            problems.append(
                f"kubernetes_package_version {show(package)} is not a package of "
                f"kubernetes_version {version}; use '{release}-<revision>' (e.g. "
                f"'{release}-1.1') or remove it (the role derives it from kubernetes_version)"
            )


def _kube_etcd_version(model: InventoryModel, problems: list[str]) -> None:
    """The external etcd kubeadm will find: its preflight refuses one older than 3.5.24."""
    minimum = ".".join(str(part) for part in KUBEADM_MIN_EXTERNAL_ETCD)
    method = model.site.get("etcd_install_method")
    if method == "debian" and "etcd_install_method" not in model.unresolved:
        problems.append(
            "etcd_install_method debian installs Debian's etcd 3.4, and kubeadm "
            f"(kube_control_plane has hosts) refuses an external etcd older than {minimum}; set "
            f"etcd_install_method: release with etcd_release_version {minimum} or newer in "
            "group_vars/all/etcd.yml"
        )
    elif method == "release" and "etcd_release_version" not in model.unresolved:
        version = model.site.get("etcd_release_version")
        if (
            isinstance(version, str)
            and _ETCD_VERSION.match(version)
            and tuple(int(part) for part in version.split(".")) < KUBEADM_MIN_EXTERNAL_ETCD
        ):
            problems.append(
                f"etcd_release_version {version} is older than {minimum}, the oldest "
                "external etcd kubeadm accepts (kube_control_plane has hosts); pin "
                f"{minimum} or newer (with its etcd_release_sha256) in group_vars/all/etcd.yml"
            )


def _kube_mirror(model: InventoryModel, version: Any, problems: list[str]) -> None:
    url = _kube_setting(model, "kubernetes_mirror_url", problems)
    if url is not _SKIP and not (
        isinstance(url, str)
        and any(url.startswith(s) and len(url) > len(s) for s in _MIRROR_SCHEMES)
    ):
        problems.append(
            f"kubernetes_mirror_url {show(url)} is not an http://, https:// or file:// URL; "
            "with kubernetes_source mirror set it to the mirror that holds "
            "<version>/bin/ and <version>/images/"
        )
    checksums = _kube_setting(model, "kubernetes_checksums", problems)
    if checksums is _SKIP or version is _SKIP:
        return
    if not isinstance(checksums, Mapping):
        problems.append(
            f"kubernetes_checksums: expected a mapping of version -> {{file: sha256}}, "
            f"{_got(checksums)}; write it as {{{version}: {{bin/kubeadm: <sha256>, ...}}}}"
        )
        return
    if version not in checksums:
        problems.append(
            f"kubernetes_checksums has no entry for kubernetes_version {version}; with "
            f"kubernetes_source mirror add {version}: {{<file>: <sha256>}} for each file on "
            f"the mirror ({', '.join(KUBERNETES_MIRROR_FILES)})"
        )
        return
    entry = checksums[version]
    label = f"kubernetes_checksums[{version}]"
    if not isinstance(entry, Mapping):
        problems.append(
            f"{label}: expected a mapping of file -> sha256, {_got(entry)}; write it as "
            "{bin/kubeadm: <sha256>, ...}"
        )
        return
    missing = [name for name in KUBERNETES_MIRROR_FILES if name not in entry]
    if missing:
        problems.append(
            f"{label} has no sha256 for {join_and(missing)}; add the sha256 of each of "
            "those files on the mirror"
        )
    malformed = [
        name
        for name in KUBERNETES_MIRROR_FILES
        if name in entry and not (isinstance(entry[name], str) and _SHA256.match(entry[name]))
    ]
    if malformed:
        problems.append(
            f"{label}: the value for {join_and(malformed)} is not a sha256 (64 lowercase hex "
            "digits); copy each from sha256sum of the file on the mirror"
        )


def _kube_lustre_clients(model: InventoryModel, problems: list[str]) -> None:
    """With Lustre at the site, every worker mounts it (the users' homes)."""
    targets = model.site.get("lustre_targets")
    if "lustre_targets" in model.unresolved or not _is_list(targets) or not targets:
        return
    clients = set(_group(model, "lustre_client"))
    missing = [host for host in _group(model, "kube_node") if host not in clients]
    if missing:
        which = "host" if len(missing) == 1 else "hosts"
        verb = "is" if len(missing) == 1 else "are"
        problems.append(
            f"kube_node {which} {join_and(missing)} {verb} not in lustre_client; notebooks and "
            "Dask workers need the users' homes on Lustre: add every kube_node host to "
            "lustre_client in hosts.yml"
        )


def _kube_namespaces(model: InventoryModel, problems: list[str]) -> None:
    value = _kube_setting(model, "kubernetes_user_namespaces", problems)
    if value is _SKIP:
        return
    if not _is_list(value):
        problems.append(
            f"kubernetes_user_namespaces: expected a list of namespace names, {_got(value)}; "
            "write it as e.g. [hub-science]"
        )
        return
    for position, name in enumerate(value):
        label = f"kubernetes_user_namespaces[{position}]"
        if not isinstance(name, str) or not _DNS_1123_LABEL.fullmatch(name):
            problems.append(
                f"{label} {show(name)} is not a namespace name (up to 63 lowercase letters, "
                "digits and '-', starting and ending with a letter or digit); rename it"
            )
        elif name in KUBERNETES_SYSTEM_NAMESPACES:
            problems.append(
                f"{label} '{name}' is one of Kubernetes' own namespaces "
                f"({', '.join(KUBERNETES_SYSTEM_NAMESPACES)}); users' workloads need a "
                "namespace of their own (e.g. hub-science): remove it"
            )


def check_kubernetes(model: InventoryModel) -> list[str]:
    """The Kubernetes layer, when kube_control_plane or kube_node has hosts: an HA control
    plane, workers and external etcd; the API's VIP on kube_control_plane; pod and service
    subnets apart from the site's networks and VIPs with room for every node; a supported
    version and what its source needs; workers that mount Lustre; users' namespaces."""
    if not _kubernetes_configured(model):
        return []
    problems: list[str] = []
    _kube_groups(model, problems)
    _kube_vip(model, problems)
    _kube_networks(model, problems)
    _kube_source(model, problems)
    _kube_etcd_version(model, problems)
    _kube_lustre_clients(model, problems)
    _kube_namespaces(model, problems)
    return problems


# --------------------------------------------------------------------------------------------
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
    names = set(MANAGED_GROUPS) | set(model.groups)
    for members in model.groups.values():
        names.update(members)
    return names


def _firewall_entry(
    index: int, entry: Any, names: set[str], seen: set[str], problems: list[str]
) -> None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        problems.append(
            f"firewall_services[{index}] is {show(entry)}; each entry is a mapping with name, "
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
            f"{label}: proto {show(proto)} is not one of {', '.join(FIREWALL_PROTOCOLS)}; "
            "use tcp, udp, or vrrp (IP protocol 112)"
        )
    ports = entry.get("ports", [])
    if not isinstance(ports, list):
        problems.append(f"{label}: ports {show(ports)} is not a list; write ports: [443]")
        ports = []
    if proto == "vrrp" and ports:
        problems.append(f"{label}: vrrp has no ports (IP protocol 112); use ports: []")
    for port in ports:
        if isinstance(port, str) and _IDENTIFIER.match(port):
            continue  # a layer's port variable, resolved on the node (plugins/filter/firewall.py)
        if not _is_int(port) or not 1 <= port <= 65535:
            problems.append(
                f"{label}: port {show(port)} is not a port number from 1 to 65535 nor a port "
                "variable's name (e.g. etcd_client_port)"
            )
    for key in ("served_by", "from"):
        items = entry.get(key)
        if not isinstance(items, list):
            problems.append(
                f"{label}: {key} {show(items)} is not a list of groups"
                + (", hosts, CIDRs, any or peers" if key == "from" else " or hosts")
            )
            continue
        for item in items:
            if isinstance(item, str) and item in names:
                continue
            if key == "from" and isinstance(item, str):
                if item in FIREWALL_SOURCE_WORDS or item in FIREWALL_SOURCE_VARIABLES:
                    continue
                if not isinstance(_parse_network(item if "/" in item else item + "/32"), str):
                    continue
            problems.append(
                f"{label}: {key} entry {show(item)} is not "
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
        problems.append(f"firewall_enabled is {show(enabled)}, not a boolean; write true or false")
    networks = site.get("jovial_admin_networks")
    if "jovial_admin_networks" not in model.unresolved and "jovial_admin_networks" in site:
        if not isinstance(networks, list):
            problems.append(
                f"jovial_admin_networks is {show(networks)}, not a list of networks; write e.g. "
                "[10.10.250.0/24]"
            )
        else:
            for cidr in networks:
                parsed = _parse_network(cidr)
                if isinstance(parsed, str):
                    problems.append(f"jovial_admin_networks entry {show(cidr)} {parsed}")
                elif parsed.prefixlen == 0:
                    problems.append(
                        f"jovial_admin_networks entry {show(cidr)} opens SSH to every address; "
                        "list the operators' networks (the control node is always admitted)"
                    )
    services = site.get("firewall_services")
    if "firewall_services" not in model.unresolved and "firewall_services" in site:
        if not isinstance(services, list):
            problems.append(
                f"firewall_services is {show(services)}, not a list of services; see "
                "roles/firewall/defaults/main.yml"
            )
        else:
            names = _firewall_names(model)
            seen: set[str] = set()
            for index, entry in enumerate(services):
                _firewall_entry(index, entry, names, seen, problems)
    return problems


def check_site_ca(model: InventoryModel) -> list[str]:
    """Host certificate and CRL lifetimes of 1-3650 days, and a renewal threshold below both: at
    or above a lifetime every run would re-issue every certificate (or sign the CRL again)."""
    problems: list[str] = []
    days: dict[str, int] = {}
    for name in SITE_CA_SETTINGS:
        if name in model.unresolved or name not in model.site:
            continue
        value = model.site[name]
        if not _is_int(value) or not 1 <= value <= 3650:
            problems.append(
                f"{name} {show(value)} is not a number of days from 1 to 3650; set it in "
                "group_vars/all/site_ca.yml (roles/site_ca/defaults/main.yml has the default)"
            )
        else:
            days[name] = value
    renew = days.get("site_ca_renew_days")
    for name in ("site_ca_cert_valid_days", "site_ca_crl_valid_days"):
        if renew is not None and name in days and renew >= days[name]:
            problems.append(
                f"site_ca_renew_days {renew} is not less than {name} {days[name]}: every run "
                f"would renew again; set site_ca_renew_days below {days[name]} "
                f"or {name} above {renew}"
            )
    return problems


CHECKERS: tuple[Checker, ...] = (
    check_unresolved,
    check_groups,
    check_site,
    check_networks,
    check_hostnames,
    check_addresses,
    check_ssh,
    check_etcd,
    check_etcd_settings,
    check_vips,
    check_lustre_targets,
    check_lustre_pairs,
    check_lustre_backend,
    check_moosefs,
    check_lustre_quotas,
    check_home_root,
    check_lustre_client,
    check_lnet,
    check_fencing,
    check_infiniband,
    check_secrets,
    check_id_ranges,
    check_proxy,
    check_ldap_providers,
    check_ldap_directory,
    check_ldap_tls,
    check_jupyterhub,
    check_jupyterhub_hubs,
    check_dask_gateway,
    check_kubernetes,
    check_firewall,
    check_site_ca,
)


# A layer playbook run on its own (playbooks/<layer>.yml) checks everything the inventory
# configures; site.yml, which stands up the whole site, also needs the site to have layers.
LAYER_CHECKERS: tuple[Checker, ...] = tuple(c for c in CHECKERS if c is not check_groups)
WHOLE_SITE_CHECKERS: tuple[Checker, ...] = CHECKERS


def validate(model: InventoryModel, checkers: Sequence[Checker] = CHECKERS) -> list[str]:
    """Every problem of the model, in checker order; an empty list means valid."""
    problems: list[str] = []
    for checker in checkers:
        try:
            problems.extend(checker(model))
        except Exception as exc:  # a bug in a checker must still give a readable answer
            problems.append(
                f"internal error: {checker.__name__} failed on this inventory "
                f"({type(exc).__name__}: {exc}); please report it as a Jovial bug"
            )
    return problems


def summary(model: InventoryModel) -> dict[str, Any]:
    """Counts for the success message (call on a valid model)."""
    vips = model.site.get("jovial_vips")
    targets = model.site.get("lustre_targets")
    members = etcd_members(model)
    return {
        "hosts": len(managed_hosts(model)),
        "groups": {
            name: len(_group(model, name)) for name in MANAGED_GROUPS if _group(model, name)
        },
        "etcd_members": len(members) if _is_list(members) else 0,
        "vips": len(vips) if _is_list(vips) else 0,
        "lustre_targets": len(targets) if _is_list(targets) else 0,
        "required_secrets": len(required_secret_names(model.site.get("jovial_required_secrets"))),
    }


def summary_text(model: InventoryModel) -> str:
    """'Inventory valid: 10 hosts, 3 etcd members, 1 VIP, 4 Lustre targets, 1 required secret
    set'."""
    counts = summary(model)

    def plural(count: int, word: str) -> str:
        return f"{count} {word}" if count == 1 else f"{count} {word}s"

    return (
        f"Inventory valid: {plural(counts['hosts'], 'host')}, "
        f"{plural(counts['etcd_members'], 'etcd member')}, {plural(counts['vips'], 'VIP')}, "
        f"{plural(counts['lustre_targets'], 'Lustre target')}, "
        f"{plural(counts['required_secrets'], 'required secret')} set"
    )


def problems_text(problems: Sequence[str]) -> str:
    """The failure message: a header and one numbered line per problem."""
    header = f"Inventory validation found {len(problems)} problem(s); nothing was changed:"
    width = len(str(len(problems)))
    lines = [f"  {n:>{width}}. {text}" for n, text in enumerate(problems, start=1)]
    return "\n".join([header, *lines])
