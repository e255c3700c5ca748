"""jovial_firewall_rules on the sample inventory: each node's inbound rules, as ansible-core
templates roles/firewall's firewall_services and hands the filter groups and hostvars.

Sources are compared as sets of addresses (the filter collapses neighbouring /32s into CIDRs).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

REPO = Path(__file__).resolve().parents[4]
SAMPLE = REPO / "inventories" / "sample"
DEFAULTS = REPO / "roles" / "firewall" / "defaults" / "main.yml"


@pytest.fixture(scope="module")
def fw(load_plugin: Callable[[str], ModuleType]) -> ModuleType:
    return load_plugin("plugins/filter/firewall.py")


def _trusted(value: Any) -> Any:
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    return value


@pytest.fixture(scope="module")
def sample(ansible_plugin_loader: None) -> dict[str, Any]:
    """The sample inventory as a play sees it, and firewall_services templated in it."""
    loader = DataLoader()
    manager = InventoryManager(loader=loader, sources=[str(SAMPLE)])
    variables = VariableManager(loader=loader, inventory=manager)
    hostvars = HostVars(inventory=manager, variable_manager=variables, loader=loader)
    task_vars = variables.get_vars(host=manager.get_host("kcp01"), include_hostvars=True)
    defaults = _trusted(yaml.safe_load(DEFAULTS.read_text()))
    templar = Templar(loader=loader, variables={**defaults, **task_vars})
    services = templar.template(defaults["firewall_services"])
    return {"services": services, "groups": task_vars["groups"], "hostvars": hostvars}


def addresses(rule: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for text in rule["ipv4"] + rule["ipv6"]:
        net = ipaddress.ip_network(text)
        out |= {str(a) for a in net} if net.num_addresses <= 64 else {text}
    return out


def rules_of(fw: ModuleType, sample: dict[str, Any], host: str) -> dict[str, dict[str, Any]]:
    rules = fw.jovial_firewall_rules(sample["services"], host, sample["groups"], sample["hostvars"])
    return {r["name"]: r for r in rules}


def ips(*names: str) -> set[str]:
    hosts = yaml.safe_load((SAMPLE / "hosts.yml").read_text())["all"]["children"]["nodes"]["hosts"]
    return {hosts[n]["jovial_address"] for n in names}


KCP = ("kcp01", "kcp02", "kcp03")
ETCD = ("etcd01", "etcd02", "etcd03")
CN = ("cn01", "cn02", "cn03", "cn04")
PROXY = ("proxy01", "proxy02")
LUSTRE = ("mds01", "mds02", "oss01", "oss02", *CN, "hub01")
ADMIN = {"10.10.250.0/24"}


def test_etcd_member_serves_ssh_and_etcd_only_to_who_needs_it(fw, sample):
    rules = rules_of(fw, sample, "etcd02")
    assert list(rules) == ["ssh", "etcd-client", "etcd-peer"]
    assert rules["ssh"]["ports"] == [22] and addresses(rules["ssh"]) == ADMIN
    # Ports come from the etcd role's defaults through their variables.
    assert rules["etcd-client"]["ports"] == [2379]
    assert addresses(rules["etcd-client"]) == ips(*ETCD, *KCP)
    assert rules["etcd-peer"]["ports"] == [2380]
    assert addresses(rules["etcd-peer"]) == ips(*ETCD)
    assert not any(r["any"] for r in rules.values())


def test_hub_is_reached_only_by_the_front_door_and_the_kubernetes_nodes(fw, sample):
    rules = rules_of(fw, sample, "hub01")
    assert list(rules) == ["ssh", "jupyterhub-proxy", "jupyterhub-api", "lnet"]
    assert rules["jupyterhub-proxy"]["ports"] == [8000]
    assert addresses(rules["jupyterhub-proxy"]) == ips(*PROXY, *CN)
    assert rules["jupyterhub-api"]["ports"] == [8081]
    assert addresses(rules["jupyterhub-api"]) == ips(*CN)
    assert addresses(rules["lnet"]) == ips(*LUSTRE)


def test_front_door_is_open_to_anyone_and_vrrp_only_between_its_pair(fw, sample):
    rules = rules_of(fw, sample, "proxy01")
    assert list(rules) == ["ssh", "https", "vrrp"]
    assert rules["https"] == {
        "name": "https",
        "proto": "tcp",
        "ports": [80, 443],
        "any": True,
        "ipv4": [],
        "ipv6": [],
    }
    assert rules["vrrp"]["ports"] == [] and addresses(rules["vrrp"]) == ips(*PROXY)


def test_control_plane_serves_the_api_to_the_cluster_its_pods_and_admins(fw, sample):
    rules = rules_of(fw, sample, "kcp01")
    assert list(rules) == [
        "ssh",
        "vrrp",
        "kube-apiserver-lb",
        "kube-apiserver",
        "kubelet",
        "kube-router-bgp",
        "jupyterhub-nodeports",
    ]
    assert addresses(rules["vrrp"]) == ips(*KCP)  # not the proxies: their own VIP
    assert rules["kube-apiserver-lb"]["ports"] == [8443]
    assert addresses(rules["kube-apiserver-lb"]) == ips(*KCP, *CN) | ADMIN | {"10.244.0.0/16"}
    assert rules["kube-apiserver"]["ports"] == [6443]
    assert addresses(rules["kube-apiserver"]) == ips(*KCP, *CN) | {"10.244.0.0/16"}
    assert addresses(rules["kubelet"]) == ips(*KCP)
    assert rules["jupyterhub-nodeports"]["ports"] == [30080, 30081]
    assert addresses(rules["jupyterhub-nodeports"]) == ips(*PROXY)


def test_storage_pairs_talk_corosync_only_inside_each_pair(fw, sample):
    mds = rules_of(fw, sample, "mds01")
    oss = rules_of(fw, sample, "oss02")
    assert list(mds) == ["ssh", "corosync", "lnet"]
    assert mds["corosync"]["proto"] == "udp" and mds["corosync"]["ports"] == [5405]
    assert addresses(mds["corosync"]) == ips("mds01", "mds02")
    assert addresses(oss["corosync"]) == ips("oss01", "oss02")


def test_backup_store_takes_ssh_only_from_the_nodes_that_have_backups(fw, sample):
    rules = rules_of(fw, sample, "backup01")
    assert list(rules) == ["ssh", "backup-store"]
    assert rules["backup-store"]["ports"] == [22]
    assert addresses(rules["backup-store"]) == ips(*ETCD, "ldap01", "ldap02", "hub01")
    # The nodes that send backups do not serve the store's port to each other.
    assert "backup-store" not in rules_of(fw, sample, "etcd01")


def test_ldap_from_every_node(fw, sample):
    rules = rules_of(fw, sample, "ldap01")
    assert list(rules) == ["ssh", "ldap"]
    assert rules["ldap"]["ports"] == [389, 636]
    every = yaml.safe_load((SAMPLE / "hosts.yml").read_text())["all"]["children"]["nodes"]
    assert addresses(rules["ldap"]) == ips(*every["hosts"])


def test_worker_rules(fw, sample):
    rules = rules_of(fw, sample, "cn03")
    assert list(rules) == ["ssh", "kubelet", "kube-router-bgp", "jupyterhub-nodeports", "lnet"]


def test_inventory_value_wins_over_the_role_default(fw):
    groups = {"all": ["a", "b"], "etcd": ["a", "b"]}
    hostvars = {
        "a": {"jovial_address": "10.0.0.1", "etcd_client_port": 12379},
        "b": {"jovial_address": "10.0.0.2"},
    }
    services = [
        {"name": "c", "ports": ["etcd_client_port"], "served_by": ["etcd"], "from": ["etcd"]}
    ]
    assert fw.jovial_firewall_rules(services, "a", groups, hostvars)[0]["ports"] == [12379]
    assert fw.jovial_firewall_rules(services, "b", groups, hostvars)[0]["ports"] == [2379]


def test_control_node_admission(fw):
    rules = [
        {
            "name": "ssh",
            "proto": "tcp",
            "ports": [22],
            "any": False,
            "ipv4": ["10.1.0.0/16"],
            "ipv6": [],
        },
        {"name": "web", "proto": "tcp", "ports": [443], "any": True, "ipv4": [], "ipv6": []},
    ]
    assert fw.jovial_firewall_admits(rules, "10.1.2.3", 22)
    assert not fw.jovial_firewall_admits(rules, "10.2.0.1", 22)
    assert not fw.jovial_firewall_admits(rules, "10.1.2.3", 2222)
    assert not fw.jovial_firewall_admits(rules, "10.1.2.3", 22, "udp")
    assert fw.jovial_firewall_admits(rules, "192.0.2.9", 443)
    assert not fw.jovial_firewall_admits(rules, "fd00::1", 22)


@pytest.mark.parametrize(
    ("service", "hostvars", "message"),
    [
        pytest.param(
            {"name": "x", "ports": ["no_such_port"], "served_by": ["all"], "from": ["all"]},
            None,
            "firewall_services[x]: port 'no_such_port' is not a number nor a variable",
            id="unknown-port-variable",
        ),
        pytest.param(
            {"name": "x", "ports": [70000], "served_by": ["all"], "from": ["all"]},
            None,
            "firewall_services[x]: port 70000 is 70000, not a port number from 1 to 65535",
            id="port-out-of-range",
        ),
        pytest.param(
            {"name": "x", "ports": [1], "served_by": ["all"], "from": ["10.0.0.0/33"]},
            None,
            "firewall_services[x]: source '10.0.0.0/33' is not a group",
            id="bad-source",
        ),
        pytest.param(
            {"name": "x", "proto": "sctp", "ports": [1], "served_by": ["all"], "from": []},
            None,
            "firewall_services[x]: proto 'sctp' is not one of tcp, udp, vrrp",
            id="bad-proto",
        ),
        pytest.param(
            {"name": "x", "ports": [1], "served_by": ["all"], "from": ["all"]},
            {"a": {"jovial_address": "10.0.0.1"}, "b": {}},
            "host b: jovial_address None is not an IP address",
            id="missing-address",
        ),
    ],
)
def test_bad_entries_are_refused_naming_the_entry(fw, service, hostvars, message):
    groups = {"all": ["a", "b"]}
    hostvars = hostvars or {
        "a": {"jovial_address": "10.0.0.1"},
        "b": {"jovial_address": "10.0.0.2"},
    }
    with pytest.raises(AnsibleFilterError, match="^" + re.escape(message)):
        fw.jovial_firewall_rules([service], "a", groups, hostvars)


def test_jovial_var_reads_the_inventory_then_the_declaring_roles_default(fw):
    assert (
        fw.jovial_var("dask_gateway_http_port", {})
        == yaml.safe_load((REPO / "roles" / "dask_gateway" / "defaults" / "main.yml").read_text())[
            "dask_gateway_http_port"
        ]
    )
    assert fw.jovial_var("dask_gateway_http_port", {"dask_gateway_http_port": 9010}) == 9010
    with pytest.raises(AnsibleFilterError, match="'dask_gateway_nothing' is neither set"):
        fw.jovial_var("dask_gateway_nothing", {})


GROUPS = {
    "all": ["cp1", "cp2", "ldap1", "v6node"],
    "kube_control_plane": ["cp1", "cp2"],
    "ldap_server": ["ldap1"],
    "v6": ["v6node"],
}
HOSTVARS = {
    "cp1": {"jovial_address": "10.10.1.11"},
    "cp2": {"jovial_address": "10.10.1.12"},
    "ldap1": {"jovial_address": "10.10.1.31"},
    "v6node": {"jovial_address": "fd00::7"},
}
VIPS = [
    {"name": "kube-apiserver", "address": "10.10.0.20"},
    {"name": "proxy", "address": "10.10.0.10"},
]


def test_group_cidrs_are_the_hosts_then_the_named_vips_each_once(fw: ModuleType) -> None:
    names = ["kube_control_plane", "cp1", "missing-group"]
    assert fw.jovial_group_cidrs(names, GROUPS, HOSTVARS, VIPS, ["kube-apiserver"]) == [
        "10.10.1.11/32",
        "10.10.1.12/32",
        "10.10.0.20/32",
    ]
    assert fw.jovial_group_cidrs(["v6", "ldap_server"], GROUPS, HOSTVARS) == [
        "fd00::7/128",
        "10.10.1.31/32",
    ]


def test_group_cidrs_name_a_host_without_an_address(fw: ModuleType) -> None:
    with pytest.raises(AnsibleFilterError, match="host cp2: jovial_address None"):
        fw.jovial_group_cidrs(["kube_control_plane"], GROUPS, {"cp1": HOSTVARS["cp1"]})
    with pytest.raises(AnsibleFilterError, match="a list of group names"):
        fw.jovial_group_cidrs("kube_control_plane", GROUPS, HOSTVARS)
