"""The whole-site inventory checks (plugins/module_utils/inventory_core.py, all run through
inventory_model.py), on plain data.

A valid base model (the lab's topology) is changed one way per case of a table, and each case
states the exact problems it must produce, no more and no fewer.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible.module_utils import inventory_core as core
from ansible.module_utils import inventory_model as im

BASE: dict[str, Any] = {
    "groups": {
        "all": [
            "core1",
            "core2",
            "core3",
            "edge1",
            "edge2",
            "hub1",
            "mds1",
            "mds2",
            "oss1",
            "oss2",
        ],
        "ungrouped": [],
        "etcd": ["core1", "core2", "core3"],
        "ldap_server": ["core1", "core2"],
        "proxy": ["edge1", "edge2"],
        "jupyterhub": ["hub1"],
        "lustre_mgs": ["mds1", "mds2"],
        "lustre_mds": ["mds1", "mds2"],
        "lustre_oss": ["oss1", "oss2"],
        "lustre_client": ["hub1"],
        "kube_control_plane": [],
        "kube_node": [],
        "infiniband": [],
        "opensm": [],
    },
    "hosts": {
        "core1": {"jovial_address": "10.77.0.11"},
        "core2": {"jovial_address": "10.77.0.12"},
        "core3": {"jovial_address": "10.77.0.13"},
        "edge1": {"jovial_address": "10.77.0.21"},
        "edge2": {"jovial_address": "10.77.0.22"},
        "hub1": {"jovial_address": "10.77.0.31"},
        "mds1": {"jovial_address": "10.77.0.41"},
        "mds2": {"jovial_address": "10.77.0.42"},
        "oss1": {"jovial_address": "10.77.0.51"},
        "oss2": {"jovial_address": "10.77.0.52"},
    },
    "site": {
        "jovial_site": "lab",
        "jovial_domain": "lab.jovial.internal",
        "jovial_networks": [{"name": "mgmt", "cidr": "10.77.0.0/24"}],
        "jovial_vips": [
            {
                "name": "proxy",
                "address": "10.77.0.100",
                "network": "mgmt",
                "group": "proxy",
                "virtual_router_id": 51,
            }
        ],
        "etcd_members": ["core1", "core2", "core3"],
        "lustre_targets": [
            {"kind": "mgt", "index": 0, "primary": "mds1", "failover": "mds2"},
            {"kind": "mdt", "index": 0, "primary": "mds1", "failover": "mds2"},
            {"kind": "ost", "index": 0, "primary": "oss1", "failover": "oss2"},
            {"kind": "ost", "index": 1, "primary": "oss2", "failover": "oss1"},
        ],
        "jovial_required_secrets": [
            "vault_jovial_ca_passphrase",
            "vault_keepalived_auth_pass",
            "vault_jupyterhub_proxy_token",
        ],
        "jovial_uid_range": {"min": 10000, "max": 59999},
        "jovial_gid_range": {"min": 10000, "max": 59999},
        # The front door (check_proxy): the role's defaults and what the inventory sets.
        "jovial_pki_dir": "/etc/jovial/lab/pki",
        "nginx_proxy_vip_name": "proxy",
        "nginx_proxy_tls_source": "site_ca",
        "nginx_proxy_server_name": "jupyter.lab.jovial.internal",
        "nginx_proxy_upstreams": ["hub1:8000"],
    },
    "secrets": {
        "vault_jovial_ca_passphrase": "not-a-real-passphrase",
        "vault_keepalived_auth_pass": "not-vrrp",
        "vault_jupyterhub_proxy_token": "not-a-real-proxy-token-32-characters",
    },
    "unresolved": {},
}

DELETE = object()  # a change that removes the key
REQUIRED = BASE["site"]["jovial_required_secrets"]


def build(changes: dict[str, Any] | None = None) -> im.InventoryModel:
    """The base model with changes applied: {"site.jovial_vips.0.address": "10.78.0.1"}."""
    data = copy.deepcopy(BASE)
    for path, value in (changes or {}).items():
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is DELETE:
            del node[last]
        else:
            node[last] = value
    return im.InventoryModel(**data)


def add_host(name: str, address: str, *groups: str) -> dict[str, Any]:
    """Changes that add a host with its address to groups (and to all)."""
    changes: dict[str, Any] = {
        "hosts": {**BASE["hosts"], name: {"jovial_address": address}},
        "groups.all": [*BASE["groups"]["all"], name],
    }
    for group in groups:
        changes[f"groups.{group}"] = [*BASE["groups"][group], name]
    return changes


ODD = (
    "etcd needs 3, 5 or 7 members (an odd number, for quorum); change group etcd (or etcd_members)"
)
SECOND_VIP = {
    "name": "ldap",
    "address": "10.77.0.101",
    "network": "mgmt",
    "group": "ldap_server",
    "virtual_router_id": 52,
}

CASES = [
    # --- only the layers the inventory configures are checked (a layer playbook's inventory)
    pytest.param(
        {"groups.etcd": [], "site.etcd_members": DELETE},
        [],
        id="no-etcd-and-no-kubernetes-needs-no-members",
    ),
    pytest.param(
        {
            "groups.ldap_server": [],
            "groups.jupyterhub": [],
            "site.jovial_uid_range": DELETE,
            "site.jovial_gid_range": DELETE,
        },
        [],
        id="no-users-needs-no-id-ranges",
    ),
    pytest.param(
        {"groups.ldap_server": [], "site.jovial_uid_range": DELETE},
        [
            "jovial_uid_range is not set; set it in group_vars/all/site.yml, "
            "e.g. {min: 10000, max: 59999}"
        ],
        id="a-hub-needs-id-ranges-without-ldap-servers",
    ),
    # --- etcd
    pytest.param(
        {"site.etcd_members": ["core1", "core2"], "groups.etcd": ["core1", "core2"]},
        [f"etcd_members has 2 hosts (core1 and core2); {ODD}"],
        id="etcd-even-count",
    ),
    pytest.param(
        {"site.etcd_members": DELETE, "groups.etcd": ["core1", "core2", "core3", "edge1"]},
        [f"etcd_members has 4 hosts (core1, core2, core3 and edge1); {ODD}"],
        id="etcd-even-count-from-group",
    ),
    pytest.param(
        {"site.etcd_members": ["core1"], "groups.etcd": ["core1"]},
        [f"etcd_members has 1 host (core1); {ODD}"],
        id="etcd-single-member",
    ),
    pytest.param(
        {"site.etcd_members": ["core1", "core2", "core9"], "groups.etcd": ["core1", "core2"]},
        ["etcd_members: host 'core9' is not in the inventory; list hosts of group etcd"],
        id="etcd-unknown-host",
    ),
    pytest.param(
        {"site.etcd_members": ["core1", "core2", "edge1"], "groups.etcd": ["core1", "core2"]},
        [
            "etcd_members: host edge1 is not in group etcd; add it to group etcd in hosts.yml "
            "or remove it from etcd_members"
        ],
        id="etcd-member-outside-group",
    ),
    pytest.param(
        {"site.etcd_members": ["core1", "core2", "core2"], "groups.etcd": ["core1", "core2"]},
        ["etcd_members lists core2 2 times; list each member once"],
        id="etcd-duplicate-member",
    ),
    pytest.param(
        {"groups.etcd": ["core1", "core2", "core3", "edge1"]},
        [
            "etcd_members: host edge1 is in group etcd but not in etcd_members; "
            "playbooks/etcd.yml makes every host of group etcd a member: add it to "
            "etcd_members or remove it from group etcd"
        ],
        id="etcd-group-host-not-a-member",
    ),
    # --- Lustre targets
    pytest.param(
        {"site.lustre_targets.2.failover": DELETE},
        [
            "lustre_targets[ost0]: failover host is not set; a target needs a failover pair: "
            "set failover to the partner (a host of lustre_oss)"
        ],
        id="lustre-pair-with-one-host",
    ),
    pytest.param(
        {"site.lustre_targets.0.primary": ""},
        [
            "lustre_targets[mgt0]: primary host is not set; a target needs a failover pair: "
            "set primary to the preferred server (a host of lustre_mgs)"
        ],
        id="lustre-empty-primary",
    ),
    pytest.param(
        {"site.lustre_targets.2.failover": "oss1"},
        [
            "lustre_targets[ost0]: failover host 'oss1' is the same as primary; "
            "set failover to the partner in lustre_oss"
        ],
        id="lustre-failover-equals-primary",
    ),
    pytest.param(
        {"site.lustre_targets.3.failover": "mds1"},
        [
            "lustre_targets[ost1]: failover host mds1 is not in group lustre_oss; "
            "add it to lustre_oss or pick a host of lustre_oss"
        ],
        id="lustre-host-in-wrong-group",
    ),
    pytest.param(
        {"site.lustre_targets.1.primary": "oss1"},
        [
            "lustre_targets[mdt0]: primary host oss1 is not in group lustre_mds; "
            "add it to lustre_mds or pick a host of lustre_mds"
        ],
        id="lustre-mdt-on-an-oss",
    ),
    pytest.param(
        {"site.lustre_targets.3.failover": "oss9"},
        [
            "lustre_targets[ost1]: failover host 'oss9' is not in the inventory; "
            "set it to a host of lustre_oss"
        ],
        id="lustre-unknown-host",
    ),
    pytest.param(
        {"site.lustre_targets.3.index": 0},
        ["lustre_targets[ost0] is defined 2 times; give each ost its own index"],
        id="lustre-duplicate-index",
    ),
    pytest.param(
        {"site.lustre_targets.3.kind": "ots"},
        ["lustre_targets[3]: kind 'ots' is not one of mgt, mdt, ost; fix the kind"],
        id="lustre-bad-kind",
    ),
    pytest.param(
        {"site.lustre_targets.3.index": -1},
        [
            "lustre_targets[3]: index -1 is not an integer >= 0; "
            "number the targets of each kind 0, 1, 2, ..."
        ],
        id="lustre-negative-index",
    ),
    # --- VIPs
    pytest.param(
        {"site.jovial_vips.0.address": "10.78.0.100"},
        [
            "jovial_vips[proxy]: address '10.78.0.100' is outside network mgmt "
            "(10.77.0.0/24); pick a free address inside it"
        ],
        id="vip-outside-subnet",
    ),
    pytest.param(
        {"site.jovial_vips.0.address": "10.77.0.21"},
        [
            "jovial_vips[proxy]: address '10.77.0.21' is the jovial_address of host edge1; "
            "pick an address no node uses"
        ],
        id="vip-equals-node-address",
    ),
    pytest.param(
        {"site.jovial_vips.0.address": "10.77.0.255"},
        [
            "jovial_vips[proxy]: address '10.77.0.255' is the broadcast address of mgmt "
            "(10.77.0.0/24); pick a free host address inside it"
        ],
        id="vip-broadcast-address",
    ),
    pytest.param(
        {"site.jovial_vips.0.address": "10.77.0.0"},
        [
            "jovial_vips[proxy]: address '10.77.0.0' is the network address of mgmt "
            "(10.77.0.0/24); pick a free host address inside it"
        ],
        id="vip-network-address",
    ),
    pytest.param(
        {
            "site.jovial_vips": [
                *BASE["site"]["jovial_vips"],
                {**SECOND_VIP, "virtual_router_id": 51},
            ]
        },
        [
            "jovial_vips[proxy] and jovial_vips[ldap] share virtual_router_id 51 on network "
            "mgmt; VRRP ids must be unique per network: pick another (1-255)"
        ],
        id="vip-duplicate-vrrp-id",
    ),
    pytest.param(
        {
            "site.jovial_networks": [
                {"name": "mgmt", "cidr": "10.77.0.0/24"},
                {"name": "public", "cidr": "198.51.100.0/24"},
            ],
            "site.jovial_vips": [
                *BASE["site"]["jovial_vips"],
                {
                    **SECOND_VIP,
                    "network": "public",
                    "address": "198.51.100.10",
                    "virtual_router_id": 51,
                },
            ],
        },
        [],
        id="vip-same-vrrp-id-on-other-network-is-fine",
    ),
    pytest.param(
        {
            "site.jovial_vips": [
                *BASE["site"]["jovial_vips"],
                {**SECOND_VIP, "address": "10.77.0.100"},
            ]
        },
        [
            "jovial_vips[proxy] and jovial_vips[ldap] share address 10.77.0.100; "
            "give each VIP its own address"
        ],
        id="vip-duplicate-address",
    ),
    pytest.param(
        {"site.jovial_vips": [*BASE["site"]["jovial_vips"], {**SECOND_VIP, "name": "proxy"}]},
        ["jovial_vips: name 'proxy' is used by 2 VIPs; give each VIP a unique name"],
        id="vip-duplicate-name",
    ),
    pytest.param(
        {"site.jovial_vips.0.name": "kube_api"},
        [
            "jovial_vips[kube_api]: name 'kube_api' is not a short DNS name (letters, digits "
            "and '-', up to 59 characters); give each VIP a unique name such as proxy",
            "proxy: no jovial_vips entry is named 'proxy' (nginx_proxy_vip_name); add the front "
            "door's VIP to jovial_vips with group: proxy",
        ],
        id="vip-name-not-a-dns-label",
    ),
    pytest.param(
        {"site.jovial_vips.0.group": "jupyterhub"},
        [
            "jovial_vips[proxy]: group jupyterhub has 1 host (hub1); a VIP needs at least two "
            "hosts to move between; add a host to jupyterhub",
            "jovial_vips[proxy]: carried by group jupyterhub (hub1) but group proxy is edge1 and "
            "edge2; the front door's VIP must move between exactly the proxy hosts: set its "
            "group to proxy",
        ],
        id="vip-group-with-one-host",
    ),
    pytest.param(
        {"site.jovial_vips.0.group": "proxies"},
        [
            "jovial_vips[proxy]: group 'proxies' is not an inventory group; "
            "set it to the group whose hosts carry the VIP"
        ],
        id="vip-unknown-group",
    ),
    pytest.param(
        {"site.jovial_vips.0.network": "dmz"},
        [
            "jovial_vips[proxy]: network 'dmz' is not in jovial_networks (mgmt); "
            "use one of those names or add the network"
        ],
        id="vip-unknown-network",
    ),
    pytest.param(
        {"site.jovial_vips.0.virtual_router_id": 256},
        [
            "jovial_vips[proxy]: virtual_router_id 256 is not an integer from 1 to 255; "
            "set a VRRP id unique on its network"
        ],
        id="vip-vrrp-id-out-of-range",
    ),
    pytest.param(
        {"site.jovial_vips.0.address": DELETE},
        ["jovial_vips[proxy]: address is not set; set a free address of its network"],
        id="vip-without-address",
    ),
    # --- addresses and hostnames
    pytest.param(
        {"hosts.core2.jovial_address": "10.77.0.11"},
        ["hosts core1 and core2 share jovial_address 10.77.0.11; give each host its own address"],
        id="two-hosts-one-address",
    ),
    pytest.param(
        {"hosts.core1.jovial_address": "10.77.9.11"},
        [
            "host core1: jovial_address '10.77.9.11' is not inside any network in "
            "jovial_networks (mgmt 10.77.0.0/24); fix the address or add its network"
        ],
        id="address-outside-networks",
    ),
    pytest.param(
        {"hosts.core1.jovial_address": "10.77.0.300"},
        ["host core1: jovial_address '10.77.0.300' is not a valid IP address; fix it in hosts.yml"],
        id="address-invalid",
    ),
    pytest.param(
        {"hosts.core1.jovial_address": "10.77.0.255"},
        [
            "host core1: jovial_address '10.77.0.255' is the broadcast address of mgmt "
            "(10.77.0.0/24); use a host address inside it"
        ],
        id="address-is-broadcast",
    ),
    pytest.param(
        {"hosts.core1": {}},
        [
            "host core1: jovial_address is not set; set it in hosts.yml to the node's address "
            "on the management network"
        ],
        id="address-missing",
    ),
    pytest.param(
        add_host("CORE1.lab.jovial.internal", "10.77.0.61", "lustre_client"),
        [
            "hosts CORE1.lab.jovial.internal and core1 share the short hostname core1; "
            "give each host its own name"
        ],
        id="duplicate-short-hostname",
    ),
    pytest.param(
        add_host("cn_01", "10.77.0.61", "lustre_client"),
        [
            "host cn_01: 'cn_01' is not a valid DNS label (letters, digits and '-', 1-63 "
            "characters, not starting or ending with '-'); rename the host"
        ],
        id="hostname-not-a-dns-label",
    ),
    pytest.param(
        add_host("10.77.0.61", "10.77.0.61", "lustre_client"),
        [
            "host 10.77.0.61: the inventory hostname is an address; name the host "
            "(e.g. node01) and set jovial_address: 10.77.0.61"
        ],
        id="hostname-is-an-address",
    ),
    pytest.param(
        {**add_host("bastion", "10.99.0.1"), "hosts": BASE["hosts"]},
        [],
        id="hosts-outside-managed-groups-are-ignored",
    ),
    pytest.param(
        {"groups": {"all": [], "ungrouped": []}, "hosts": {}, "site.etcd_members": DELETE},
        [
            "inventory: no host is in any of the groups etcd, kube_control_plane, kube_node, "
            "ldap_server, proxy, jupyterhub, dask_gateway, lustre_mgs, lustre_mds, lustre_oss, "
            "lustre_client, infiniband, opensm, backup_store; check that -i points at "
            "inventories/<site> and that hosts.yml parses",
            "jovial_vips[proxy]: group 'proxy' is not an inventory group; set it to the group "
            "whose hosts carry the VIP",
        ]
        + [
            f"lustre_targets[{target}]: {role} host '{host}' is not in the inventory; "
            f"set it to a host of {group}"
            for target, group, pair in (
                ("mgt0", "lustre_mgs", ("mds1", "mds2")),
                ("mdt0", "lustre_mds", ("mds1", "mds2")),
                ("ost0", "lustre_oss", ("oss1", "oss2")),
                ("ost1", "lustre_oss", ("oss2", "oss1")),
            )
            for role, host in zip(("primary", "failover"), pair, strict=True)
        ],
        id="empty-inventory",
    ),
    # --- networks and site identity
    pytest.param(
        {"site.jovial_networks.0.cidr": "10.77.0.1/24"},
        ["jovial_networks[mgmt]: cidr '10.77.0.1/24' has host bits set; use 10.77.0.0/24"],
        id="network-host-bits",
    ),
    pytest.param(
        {
            "site.jovial_networks": [
                {"name": "mgmt", "cidr": "10.77.0.0/24"},
                {"name": "mgmt", "cidr": "10.88.0.0/24"},
            ]
        },
        ["jovial_networks: name 'mgmt' is used by 2 networks; give each network a unique name"],
        id="network-duplicate-name",
    ),
    pytest.param(
        {
            "site.jovial_networks": [
                {"name": "mgmt", "cidr": "10.77.0.0/24"},
                {"name": "storage", "cidr": "10.77.0.0/16"},
            ]
        },
        [
            "jovial_networks[storage]: cidr 10.77.0.0/16 overlaps jovial_networks[mgmt] "
            "(10.77.0.0/24); networks must not overlap"
        ],
        id="network-overlap",
    ),
    pytest.param(
        {
            "site.jovial_networks": [
                {"name": "mgmt", "cidr": "10.77.0.0/24"},
                {"name": "ib", "cidr": "10.78.0.0"},
            ],
            "hosts.core1.jovial_address": "10.78.0.11",
        },
        [
            "jovial_networks[ib]: cidr '10.78.0.0' is not a network in address/prefix form "
            "(e.g. 10.77.0.0/24)"
        ],
        id="broken-network-silences-address-checks-on-it",
    ),
    pytest.param(
        {"site.jovial_site": DELETE},
        [
            "jovial_site is not set; set it in group_vars/all/site.yml to the site's short "
            "lowercase name (e.g. obs)"
        ],
        id="site-missing",
    ),
    pytest.param(
        {"site.jovial_site": "Lab Site"},
        [
            "jovial_site 'Lab Site' is not a short lowercase name; use up to 32 lowercase "
            "letters, digits and '-', starting with a letter (e.g. obs)"
        ],
        id="site-not-short-lowercase",
    ),
    pytest.param(
        {"site.jovial_domain": DELETE},
        [
            "jovial_domain is not set; set it in group_vars/all/site.yml to the nodes' DNS "
            "domain (e.g. obs.example.org)"
        ],
        id="domain-missing",
    ),
    pytest.param(
        {"site.jovial_domain": "lab_domain.internal"},
        [
            "jovial_domain 'lab_domain.internal' is not a DNS domain; use dot-separated labels "
            "of letters, digits and '-' (e.g. obs.example.org)"
        ],
        id="domain-invalid",
    ),
    pytest.param(
        {"site.jovial_networks": DELETE},
        [
            "jovial_networks is not set; list the site's networks in group_vars/all/site.yml, "
            "e.g. [{name: mgmt, cidr: 10.77.0.0/24}]"
        ],
        id="networks-missing",
    ),
    # --- secrets
    pytest.param(
        {"secrets.vault_jovial_ca_passphrase": DELETE},
        [
            "secret vault_jovial_ca_passphrase is not set; add it to group_vars/all/vault.yml "
            "and encrypt that file with ansible-vault"
        ],
        id="secret-missing",
    ),
    pytest.param(
        {"secrets.vault_jovial_ca_passphrase": "  "},
        ["secret vault_jovial_ca_passphrase is empty; set a value in group_vars/all/vault.yml"],
        id="secret-empty",
    ),
    pytest.param(
        {"secrets.vault_jovial_ca_passphrase": 1234},
        [
            "secret vault_jovial_ca_passphrase is an integer, not a string; "
            "quote its value in group_vars/all/vault.yml"
        ],
        id="secret-not-a-string",
    ),
    pytest.param(
        {"site.jovial_required_secrets": [*REQUIRED[1:], "jovial_ca_passphrase"]},
        [
            "jovial_required_secrets: jovial_ca_passphrase is not named vault_*; rename it to "
            "vault_jovial_ca_passphrase and keep its value in group_vars/all/vault.yml"
        ],
        id="secret-not-named-vault",
    ),
    pytest.param(
        {"site.jovial_required_secrets": [*REQUIRED, "hunter2!"]},
        [
            "jovial_required_secrets[3] is not a variable name (value not shown in case it is a "
            "secret); list vault_* variable names"
        ],
        id="secret-list-holds-a-value",
    ),
    pytest.param(
        {"site.jovial_required_secrets": REQUIRED[::2]},
        [
            "jovial_required_secrets does not list vault_keepalived_auth_pass; keepalived moves "
            "the VIPs of jovial_vips and authenticates its VRRP adverts with it: add it there "
            "and a random value of 8+ characters to group_vars/all/vault.yml"
        ],
        id="vrrp-secret-not-required",
    ),
    pytest.param(
        {
            "site.jovial_required_secrets": REQUIRED[::2],
            "site.jovial_vips": [],
            "groups.proxy": [],
        },
        [],
        id="no-vips-need-no-vrrp-secret",
    ),
    pytest.param(
        {"secrets.vault_keepalived_auth_pass": "vrrp"},
        [
            "vault_keepalived_auth_pass has fewer than 8 characters (value not shown); VRRP uses "
            "its first 8: set a random string of 8+ characters in group_vars/all/vault.yml"
        ],
        id="vrrp-secret-short",
    ),
    # --- id ranges
    pytest.param(
        {"site.jovial_uid_range.min": 500},
        ["jovial_uid_range: min 500 is inside the system range; use 1000 or more (10000 is usual)"],
        id="uid-range-min-in-system-range",
    ),
    pytest.param(
        {"site.jovial_gid_range": {"min": 60000, "max": 50000}},
        ["jovial_gid_range: min 60000 is not below max 50000; set min < max"],
        id="gid-range-min-above-max",
    ),
    pytest.param(
        {"site.jovial_uid_range.max": 70000},
        [
            "jovial_uid_range: 10000-70000 includes 65534 (nobody); end the range below it "
            "(e.g. max: 59999) or start it above it"
        ],
        id="uid-range-covers-nobody",
    ),
    pytest.param(
        {"site.jovial_uid_range": {"min": 70000, "max": 2**31}},
        [
            "jovial_uid_range: max 2147483648 is not below 2^31 (2147483648); "
            "use a smaller max (59999 is usual)"
        ],
        id="uid-range-max-too-big",
    ),
    pytest.param(
        {"site.jovial_gid_range": DELETE},
        [
            "jovial_gid_range is not set; set it in group_vars/all/site.yml, "
            "e.g. {min: 10000, max: 59999}"
        ],
        id="gid-range-missing",
    ),
    # --- wrong types: a problem each, never an exception
    pytest.param(
        {"site.jovial_networks": "10.77.0.0/24"},
        [
            "jovial_networks: expected a list of {name, cidr}, got a string ('10.77.0.0/24'); "
            "write it as e.g. [{name: mgmt, cidr: 10.77.0.0/24}]"
        ],
        id="type-networks-string",
    ),
    pytest.param(
        {"site.jovial_networks": ["mgmt"]},
        ["jovial_networks[0]: expected a mapping {name, cidr}, got a string ('mgmt')"],
        id="type-network-item-string",
    ),
    pytest.param(
        {"site.etcd_members": "core1,core2,core3"},
        [
            "etcd_members: expected a list of hostnames, got a string ('core1,core2,core3'); "
            "use etcd_members: \"{{ groups['etcd'] | default([]) }}\""
        ],
        id="type-etcd-members-string",
    ),
    pytest.param(
        {"site.jovial_vips": {"name": "proxy"}},
        [
            "jovial_vips: expected a list of {name, address, network, group, "
            "virtual_router_id}, got a mapping ({'name': 'proxy'})"
        ],
        id="type-vips-mapping",
    ),
    pytest.param(
        {"site.jovial_vips.0.virtual_router_id": "51"},
        [
            "jovial_vips[proxy]: virtual_router_id '51' is not an integer from 1 to 255; "
            "set a VRRP id unique on its network"
        ],
        id="type-vrrp-id-string",
    ),
    pytest.param(
        {"site.lustre_targets": "ost0"},
        [
            "lustre_targets: expected a list of {kind, index, primary, failover}, "
            "got a string ('ost0')"
        ],
        id="type-lustre-targets-string",
    ),
    pytest.param(
        {"site.lustre_targets.3": ["ost", 1, "oss2", "oss1"]},
        [
            "lustre_targets[3]: expected a mapping {kind, index, primary, failover}, "
            "got a list (['ost', 1, 'oss2', 'oss1'])"
        ],
        id="type-lustre-target-list",
    ),
    pytest.param(
        {"site.lustre_targets.3.index": "1"},
        [
            "lustre_targets[3]: index '1' is not an integer >= 0; "
            "number the targets of each kind 0, 1, 2, ..."
        ],
        id="type-lustre-index-string",
    ),
    pytest.param(
        {"site.lustre_targets.3.primary": ["oss2"]},
        ["lustre_targets[ost1]: primary got a list (['oss2']); set it to a host of lustre_oss"],
        id="type-lustre-primary-list",
    ),
    pytest.param(
        {"site.jovial_required_secrets": "vault_jovial_ca_passphrase"},
        [
            "jovial_required_secrets: expected a list of vault_* variable names, got a string; "
            "list the names, e.g. [vault_jovial_ca_passphrase]"
        ],
        id="type-required-secrets-string",
    ),
    pytest.param(
        {"site.jovial_uid_range": "10000-59999"},
        [
            "jovial_uid_range: expected a mapping {min, max}, got a string ('10000-59999'); "
            "write it as {min: 10000, max: 59999}"
        ],
        id="type-uid-range-string",
    ),
    pytest.param(
        {"site.jovial_uid_range.min": "10000", "site.jovial_uid_range.max": True},
        [
            "jovial_uid_range: min '10000' is not an integer; write a number without quotes, "
            "e.g. {min: 10000, max: 59999}",
            "jovial_uid_range: max true is not an integer; write a number without quotes, "
            "e.g. {min: 10000, max: 59999}",
        ],
        id="type-uid-range-bounds",
    ),
    pytest.param(
        {"hosts.core1.jovial_address": 174981131},
        ["host core1: jovial_address 174981131 is not a valid IP address; fix it in hosts.yml"],
        id="type-address-integer",
    ),
    # --- values that could not be templated (reported once, not also as missing)
    pytest.param(
        {"unresolved": {"jovial_vips": "AnsibleUndefinedVariable: 'x' is undefined"}},
        [
            "jovial_vips could not be templated (AnsibleUndefinedVariable: 'x' is undefined); "
            "fix its value in group_vars/all"
        ],
        id="unresolved-site-variable",
    ),
    pytest.param(
        {"hosts.core1": {}, "unresolved": {"core1:jovial_address": "AnsibleUndefinedVariable"}},
        [
            "host core1: jovial_address could not be templated (AnsibleUndefinedVariable); "
            "fix its value in hosts.yml or host_vars"
        ],
        id="unresolved-host-variable",
    ),
    pytest.param(
        {
            "secrets.vault_jovial_ca_passphrase": DELETE,
            "unresolved": {"vault_jovial_ca_passphrase": "AnsibleLookupError"},
        },
        [
            "secret vault_jovial_ca_passphrase could not be templated (AnsibleLookupError); "
            "fix its value in group_vars/all/vault.yml"
        ],
        id="unresolved-secret",
    ),
    # --- backup stores (check_backup_stores)
    pytest.param({"site.common_backup_stores": ["oss2"]}, [], id="backup-store-without-backups"),
    pytest.param(
        {"site.common_backup_stores": ["core1", "core2"]}, [], id="two-stores-copy-to-each-other"
    ),
    pytest.param(
        {"site.common_backup_stores": ["core1"]},
        [
            "common_backup_stores is only core1, which has backups of its own (etcd and "
            "ldap_server): they would have no copy off the node; add a second store host (each "
            "store copies its own backups to the other)"
        ],
        id="lone-store-with-backups-of-its-own",
    ),
    pytest.param(
        {"site.common_backup_stores": ["backup9"]},
        [
            "common_backup_stores names backup9, which is not a host of a Jovial group; add "
            "backup9 to group backup_store in hosts.yml, or remove it from common_backup_stores"
        ],
        id="backup-store-unknown-host",
    ),
    pytest.param(
        {"site.common_backup_stores": "oss2"},
        [
            "common_backup_stores is 'oss2', not a list of hostnames; set it to the hosts that "
            "keep the other nodes' backups, e.g. common_backup_stores: \"{{ groups['backup_store'] "
            '| default([]) }}" with the store in group backup_store, or [] to keep backups on '
            "their nodes only"
        ],
        id="backup-stores-not-a-list",
    ),
]


def test_valid_base_has_no_problems() -> None:
    assert im.validate(build()) == []


@pytest.mark.parametrize(("changes", "expected"), CASES)
def test_broken_variant_reports_exactly(changes: dict[str, Any], expected: list[str]) -> None:
    assert im.validate(build(changes)) == expected


def test_every_problem_is_reported_at_once() -> None:
    changes = {
        "site.etcd_members": ["core1", "core2"],
        "groups.etcd": ["core1", "core2"],
        "site.lustre_targets.2.failover": "oss1",
        "site.jovial_vips.0.address": "10.78.0.100",
        "hosts.core2.jovial_address": "10.77.0.11",
        "secrets.vault_jovial_ca_passphrase": DELETE,
        "site.jovial_uid_range.min": 500,
    }
    problems = im.validate(build(changes))
    # One problem per broken thing, in checker order: addresses, etcd, VIPs, Lustre, secrets, ids.
    assert [p.split(" ", 2)[:2] for p in problems] == [
        ["hosts", "core1"],
        ["etcd_members", "has"],
        ["jovial_vips[proxy]:", "address"],
        ["lustre_targets[ost0]:", "failover"],
        ["secret", "vault_jovial_ca_passphrase"],
        ["jovial_uid_range:", "min"],
    ]


GARBAGE = [None, True, 7, 1.5, "x", "", [], {}, [None], [7], ["x"], [{}], [[]], {"a": None}]


@pytest.mark.parametrize("variable", im.SITE_VARIABLES)
@pytest.mark.parametrize("value", GARBAGE, ids=repr)
def test_wrong_types_never_crash_a_checker(variable: str, value: Any) -> None:
    problems = im.validate(build({f"site.{variable}": value}))
    assert not [p for p in problems if p.startswith("internal error")]


@pytest.mark.parametrize("value", GARBAGE, ids=repr)
def test_wrong_host_and_group_types_never_crash_a_checker(value: Any) -> None:
    changes = {"hosts.core1": value, "hosts.core2.jovial_address": value, "groups.proxy": value}
    problems = im.validate(build(changes))
    assert problems  # core1/core2 lost their addresses at least
    assert not [p for p in problems if p.startswith("internal error")]


def test_a_crashing_checker_becomes_a_problem() -> None:
    def check_boom(model: im.InventoryModel) -> list[str]:
        raise KeyError("boom")

    problems = im.validate(build(), checkers=[*im.CHECKERS, check_boom])
    assert problems == [
        "internal error: check_boom failed on this inventory (KeyError: 'boom'); "
        "please report it as a Jovial bug"
    ]


def test_secret_values_never_appear_in_problems() -> None:
    secret = "correct-horse-battery-staple"
    changes = {
        "site.jovial_required_secrets": [*REQUIRED, secret, 42],
        "secrets.vault_jovial_ca_passphrase": [secret],
    }
    problems = im.validate(build(changes))
    assert len(problems) == 3
    assert not [p for p in problems if secret in p]


def test_required_secret_names_keeps_only_vault_names() -> None:
    value = ["vault_a", "b", 3, "vault_a", "vault_ b", "vault_c"]
    assert im.required_secret_names(value) == ["vault_a", "vault_a", "vault_c"]
    assert im.required_secret_names("vault_a") == []


def test_ipv6_networks_and_addresses() -> None:
    changes = {
        "site.jovial_networks": [
            {"name": "mgmt", "cidr": "10.77.0.0/24"},
            {"name": "v6", "cidr": "fd00:77::/64"},
        ],
        "hosts.core1.jovial_address": "fd00:77::11",
        "hosts.core2.jovial_address": "fd00:77::0011",
    }
    assert im.validate(build(changes)) == [
        "hosts core1 and core2 share jovial_address fd00:77::11; give each host its own address"
    ]


def test_managed_hosts_are_the_union_of_managed_groups() -> None:
    model = build(add_host("bastion", "10.99.0.1"))
    assert "bastion" not in im.managed_hosts(model)
    assert im.managed_hosts(model)[:3] == ["core1", "core2", "core3"]
    assert "bastion" in core.inventory_hosts(model)


def test_problems_text_numbers_every_problem() -> None:
    problems = [f"problem {n}" for n in range(1, 11)]
    text = im.problems_text(problems)
    lines = text.splitlines()
    assert lines[0] == "Inventory validation found 10 problem(s); nothing was changed:"
    assert lines[1] == "   1. problem 1"
    assert lines[10] == "  10. problem 10"


def test_summary_of_the_base() -> None:
    model = build()
    assert im.summary_text(model) == (
        "Inventory valid: 10 hosts, 3 etcd members, 1 VIP, 4 Lustre targets, 3 required secrets set"
    )
    counts = im.summary(model)
    assert counts["groups"]["lustre_oss"] == 2
    assert "kube_node" not in counts["groups"]  # only groups with hosts


def test_a_layer_run_needs_no_hosts_in_jovial_groups() -> None:
    """The common layer's inventory (hosts in no Jovial group) passes a layer playbook's gate;
    site.yml's gate, which stands up every layer, refuses it (-i is probably wrong)."""
    model = build(
        {
            "groups": {"all": ["node1"], "ungrouped": ["node1"]},
            "hosts": {},
            "site.etcd_members": DELETE,
            "site.jovial_vips": [],
            "site.lustre_targets": [],
        }
    )
    assert im.validate(model, im.LAYER_CHECKERS) == []
    assert im.validate(model, im.WHOLE_SITE_CHECKERS) == [
        "inventory: no host is in any of the groups etcd, kube_control_plane, kube_node, "
        "ldap_server, proxy, jupyterhub, dask_gateway, lustre_mgs, lustre_mds, lustre_oss, "
        "lustre_client, infiniband, opensm, backup_store; check that -i points at "
        "inventories/<site> and that hosts.yml parses"
    ]
