"""The hub is reachable only through the front door (roles/firewall, firewall_services).

A TCP scan of every port of every node and of the VIP from three places: an outsider on the
site network (in no group), a proxy node, and the control node. The expected ports are the
declaration read by hand: HTTPS (and the redirect on 80) from anyone on the proxy pair; LDAP
from the inventory's nodes on the providers; the hub's TLS port (configurable-http-proxy,
8000) only from the proxy pair; SSH only from the control node (no admin networks here).
The Kubernetes nodes and the API VIP: nothing for an outsider or the hub node; the hubs'
NodePorts (their proxies' TLS ports, 30443 and 30444) for the front door, on the workers
that run a proxy (externalTrafficPolicy Local keeps the source address for the hubs'
NetworkPolicies); SSH for the control node. mj-kw2 is also the backup store: SSH there for the
nodes that copy their backups to it (the hub node, the LDAP providers, the etcd members), and
for no one else.
"""

from __future__ import annotations

import sys

from jovial_fixtures import dropped_packets, outsider, port_scan

NODES = {"mj-core1": "10.78.5.11", "mj-core2": "10.78.5.12", "mj-hub": "10.78.5.31"}
VIP = "10.78.5.100"
ADDRESSES = [*NODES.values(), VIP]
OUTSIDER_IP = "10.78.5.99"
KUBE = {
    "mj-kcp1": "10.78.5.41",
    "mj-kcp2": "10.78.5.42",
    "mj-kw1": "10.78.5.51",
    "mj-kw2": "10.78.5.52",
}
API_VIP = "10.78.5.101"
KUBE_ADDRESSES = [*KUBE.values(), API_VIP]
HUB_NODE_PORTS = {30443, 30444}  # jupyterhub_hubs' node_port


def test_an_outsider_reaches_only_the_front_door(node):
    found = port_scan(outsider("jovial-mol-jupyterhub", OUTSIDER_IP), ADDRESSES)
    assert found == {
        NODES["mj-core1"]: [80, 443],
        NODES["mj-core2"]: [80, 443],
        NODES["mj-hub"]: [],
        VIP: [80, 443],
    }
    # Dropped, not refused: the hub counted the outsider's probes of its 65535 ports.
    chain = node("mj-hub").run("nft list chain inet jovial input").stdout
    assert dropped_packets(chain) > 60000, chain


def test_a_proxy_node_reaches_the_hub_port_and_the_directory():
    found = port_scan(["podman", "exec", "-i", "mj-core1", "python3", "-"], ADDRESSES)
    assert found[NODES["mj-hub"]] == [8000], found
    assert found[NODES["mj-core2"]] == [80, 389, 443, 636], found


def test_the_hub_node_reaches_the_directory_but_no_ssh():
    found = port_scan(["podman", "exec", "-i", "mj-hub", "python3", "-"], ADDRESSES)
    for core in ("mj-core1", "mj-core2"):
        assert found[NODES[core]] == [80, 389, 443, 636], (core, found)


def test_the_control_node_reaches_ssh_and_the_front_door_never_the_hub_port():
    found = port_scan([sys.executable, "-"], ADDRESSES)
    assert found == {
        NODES["mj-core1"]: [22, 80, 443],
        NODES["mj-core2"]: [22, 80, 443],
        NODES["mj-hub"]: [22],
        VIP: [22, 80, 443],
    }


STORE = KUBE["mj-kw2"]  # group backup_store


def test_the_kubernetes_nodes_answer_an_outsider_nothing_and_the_hub_node_only_the_store():
    empty = {address: [] for address in KUBE_ADDRESSES}
    assert port_scan(outsider("jovial-mol-jupyterhub", OUTSIDER_IP), KUBE_ADDRESSES) == empty
    found = port_scan(["podman", "exec", "-i", "mj-hub", "python3", "-"], KUBE_ADDRESSES)
    assert found == {**empty, STORE: [22]}


def test_the_front_door_reaches_only_the_hubs_node_ports():
    found = port_scan(["podman", "exec", "-i", "mj-core1", "python3", "-"], KUBE_ADDRESSES)
    for name in ("mj-kcp1", "mj-kcp2"):
        assert found[KUBE[name]] == [], (name, found)
    assert found[API_VIP] == [], found
    # The proxy pair is also the LDAP pair, whose backups go to the store over SSH.
    assert 22 in found[STORE], found
    workers = [set(found[KUBE["mj-kw1"]]), set(found[STORE]) - {22}]
    assert all(ports <= HUB_NODE_PORTS for ports in workers), found
    assert set().union(*workers) == HUB_NODE_PORTS, found


def test_the_control_node_reaches_only_ssh_on_the_kubernetes_nodes():
    found = port_scan([sys.executable, "-"], KUBE_ADDRESSES)
    assert found == {address: [22] for address in KUBE_ADDRESSES}
