"""The host firewall's inventory checks (check_firewall), on the lab model with one change per
case; each case states the exact problems it must produce, no more and no fewer. The role's
own firewall_services (roles/firewall/defaults/main.yml) and the sample's settings pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils import inventory_model as im
from test_inventory_model import build

REPO = Path(__file__).resolve().parents[4]


def _default_services() -> list[dict[str, Any]]:
    """The role's list with its templated fields replaced by what they render to in a site."""
    services = yaml.safe_load((REPO / "roles/firewall/defaults/main.yml").read_text())
    out = []
    for entry in services["firewall_services"]:
        entry = dict(entry)
        for key, value in {"from": ["10.10.250.0/24"], "served_by": ["core1"], "ports": []}.items():
            if isinstance(entry.get(key), str):
                entry[key] = value
        out.append(entry)
    return out


SERVICE = {"name": "web", "proto": "tcp", "ports": [443], "served_by": ["proxy"], "from": ["any"]}

CASES = [
    pytest.param({}, [], id="lab-unset-valid"),
    pytest.param(
        {
            "site.firewall_enabled": True,
            "site.jovial_admin_networks": ["10.10.250.0/24", "fd00:10::/64"],
            "site.firewall_services": _default_services(),
        },
        [],
        id="role-defaults-and-sample-valid",
    ),
    pytest.param(
        {"site.firewall_enabled": "yes"},
        ["firewall_enabled is 'yes', not a boolean; write true or false"],
        id="enabled-not-bool",
    ),
    pytest.param(
        {"site.jovial_admin_networks": ["10.10.250.5/24", "office", "0.0.0.0/0"]},
        [
            "jovial_admin_networks entry '10.10.250.5/24' has host bits set; use 10.10.250.0/24",
            "jovial_admin_networks entry 'office' is not a network in address/prefix form "
            "(e.g. 10.77.0.0/24)",
            "jovial_admin_networks entry '0.0.0.0/0' opens SSH to every address; list the "
            "operators' networks (the control node is always admitted)",
        ],
        id="admin-networks-bad",
    ),
    pytest.param(
        {"site.jovial_admin_networks": "10.10.250.0/24"},
        [
            "jovial_admin_networks is '10.10.250.0/24', not a list of networks; write e.g. "
            "[10.10.250.0/24]"
        ],
        id="admin-networks-not-a-list",
    ),
    pytest.param(
        {
            "site.firewall_services": [
                SERVICE,
                SERVICE,
                {**SERVICE, "name": "x", "proto": "sctp", "ports": [0, "443", "etcd_client_port"]},
                {**SERVICE, "name": "v", "proto": "vrrp", "ports": [112], "from": ["peers"]},
                {
                    **SERVICE,
                    "name": "s",
                    "served_by": ["proxies"],
                    "from": [
                        "kube_nodes",
                        "10.1.2.3",
                        "10.0.0.0/8",
                        "kubernetes_pod_subnet",
                        "core1",
                        "kube_node",
                    ],
                },
                {**SERVICE, "name": "e", "served_by": "proxy"},
                "ssh",
            ]
        },
        [
            "firewall_services[web] is declared twice; keep one entry per service",
            "firewall_services[x]: proto 'sctp' is not one of tcp, udp, vrrp; use tcp, udp, "
            "or vrrp (IP protocol 112)",
            "firewall_services[x]: port 0 is not a port number from 1 to 65535 nor a port "
            "variable's name (e.g. etcd_client_port)",
            "firewall_services[x]: port '443' is not a port number from 1 to 65535 nor a port "
            "variable's name (e.g. etcd_client_port)",
            "firewall_services[v]: vrrp has no ports (IP protocol 112); use ports: []",
            "firewall_services[s]: served_by entry 'proxies' is not a group or host of the "
            "inventory; name a group (e.g. etcd) or a host",
            "firewall_services[s]: from entry 'kube_nodes' is not a group or host of the "
            "inventory, a network like 10.10.0.0/24, kubernetes_pod_subnet, "
            "kubernetes_service_subnet, any or peers",
            "firewall_services[e]: served_by 'proxy' is not a list of groups or hosts",
            "firewall_services[6] is 'ssh'; each entry is a mapping with name, proto, ports, "
            "served_by and from (see roles/firewall/defaults/main.yml)",
        ],
        id="services-bad",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), CASES)
def test_check_firewall(changes: dict[str, Any], expected: list[str]) -> None:
    assert im.check_firewall(build(changes)) == expected


def test_registered_and_defaults_come_from_the_role() -> None:
    assert im.check_firewall in im.CHECKERS
    assert im.ROLE_DEFAULTS["firewall"] == im.FIREWALL_SETTINGS
    assert set(im.FIREWALL_SETTINGS) <= set(im.SITE_VARIABLES)
