"""The host firewall of the common layer (roles/firewall, from playbooks/common.yml): every
node denies inbound by default. Nodes in no layer's group serve nothing but SSH, and that only
to the control node (jovial_admin_networks is empty here); the time server answers NTP to the
networks of common_ntp_serve_networks (test_common.py's time test crosses it), and the VIP's
carriers exchange VRRP."""

from __future__ import annotations

import subprocess
import sys

from jovial_fixtures import dropped_packets, outsider, port_scan

NODES = {"mc-time": "10.78.1.11", "mc-node": "10.78.1.12"}
ADDRESSES = sorted(NODES.values())
OUTSIDER_IP = "10.78.1.99"  # on the scenario network, in no group, not the control node


def _nft(node: str, *args: str) -> str:
    out = subprocess.run(
        ["podman", "exec", node, "nft", *args], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_an_outsider_reaches_no_port_of_any_node():
    before = dropped_packets(_nft("mc-node", "list", "chain", "inet", "jovial", "input"))
    found = port_scan(outsider("jovial-mol-common", OUTSIDER_IP), ADDRESSES)
    assert found == {address: [] for address in ADDRESSES}
    # Dropped, not refused: the node counted the outsider's probes as drops.
    after = dropped_packets(_nft("mc-node", "list", "chain", "inet", "jovial", "input"))
    assert after - before > 60000, (before, after)


def test_a_node_reaches_no_tcp_port_of_the_other():
    found = port_scan(["podman", "exec", "-i", "mc-node", "python3", "-"], [NODES["mc-time"]])
    assert found == {NODES["mc-time"]: []}


def test_the_control_node_reaches_ssh_only():
    found = port_scan([sys.executable, "-"], ADDRESSES)
    assert found == {address: [22] for address in ADDRESSES}


def test_only_the_time_server_serves_ntp_and_only_to_its_networks():
    rules = {name: _nft(name, "list", "ruleset") for name in NODES}
    assert "udp dport 123" in rules["mc-time"]
    assert "10.78.1.0/24" in rules["mc-time"]
    assert "udp dport 123" not in rules["mc-node"]
