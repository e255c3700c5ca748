"""check_proxy (plugins/module_utils/inventory_proxy.py): the front door's inventory inputs.

The lab's topology with group_vars/all/proxy.yml set, changed one way per case; each case
states the exact problems the whole validation must produce, no more and no fewer.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible.module_utils import inventory_model as im
from ansible.module_utils import inventory_proxy as proxy

HOSTS = {
    "core1": "10.77.0.11",
    "core2": "10.77.0.12",
    "core3": "10.77.0.13",
    "edge1": "10.77.0.21",
    "edge2": "10.77.0.22",
    "edge3": "10.77.0.23",
    "hub1": "10.77.0.31",
}
BASE: dict[str, Any] = {
    "groups": {
        "all": sorted(HOSTS),
        "ungrouped": [],
        "etcd": ["core1", "core2", "core3"],
        "proxy": ["edge1", "edge2"],
        "spare_edges": ["edge2", "edge3"],
        "jupyterhub": ["hub1"],
        "edge_nodes": ["edge3"],
    },
    "hosts": {name: {"jovial_address": address} for name, address in HOSTS.items()},
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
        "jovial_required_secrets": [
            "vault_jovial_ca_passphrase",
            "vault_keepalived_auth_pass",
            "vault_jupyterhub_proxy_token",
        ],
        "jovial_uid_range": {"min": 10000, "max": 59999},
        "jovial_gid_range": {"min": 10000, "max": 59999},
        "jovial_pki_dir": "/srv/jovial/build/lab/pki",
        "nginx_proxy_vip_name": "proxy",
        "nginx_proxy_server_name": "jovial.lab.jovial.internal",
        "nginx_proxy_upstreams": ["hub1:8000"],
        "nginx_proxy_tls_source": "site_ca",
    },
    "secrets": {
        "vault_jovial_ca_passphrase": "not-a-real-passphrase",
        "vault_keepalived_auth_pass": "notreal8",
        "vault_jupyterhub_proxy_token": "not-a-real-proxy-token-32-characters",
    },
    "unresolved": {},
}
DELETE = object()


def build(changes: dict[str, Any] | None = None) -> im.InventoryModel:
    data = copy.deepcopy(BASE)
    for path, value in (changes or {}).items():
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return im.InventoryModel(**data)


def test_the_base_front_door_is_valid():
    assert im.validate(build()) == []


def test_the_check_is_registered():
    assert im.check_proxy in im.CHECKERS
    for name in (*proxy.PROXY_SETTINGS, "jovial_pki_dir"):
        assert name in im.SITE_VARIABLES


FILES = {
    "site.nginx_proxy_tls_source": "files",
    "site.nginx_proxy_tls_cert_file": "/etc/jovial/front/fullchain.pem",
    "site.nginx_proxy_tls_key_file": "/etc/jovial/front/privkey.pem",
}
SERVER_NAME_FIX = (
    "set it in group_vars/all/proxy.yml to the name users type (e.g. jupyter.obs.example.org)"
)

CASES = [
    # --- the VIP and the proxy group
    pytest.param(
        {"site.nginx_proxy_vip_name": "front"},
        [
            "proxy: no jovial_vips entry is named 'front' (nginx_proxy_vip_name); add the front "
            "door's VIP to jovial_vips with group: proxy"
        ],
        id="vip-name-unknown",
    ),
    pytest.param(
        {"site.jovial_vips.0.group": "spare_edges"},
        [
            "jovial_vips[proxy]: carried by group spare_edges (edge2 and edge3) but group proxy "
            "is edge1 and edge2; the front door's VIP must move between exactly the proxy "
            "hosts: set its group to proxy"
        ],
        id="vip-carried-by-other-hosts",
    ),
    pytest.param(
        {"groups.proxy": ["edge1", "edge2", "edge3"]},
        [],
        id="three-proxies-share-the-vip",
    ),
    pytest.param(
        {"site.nginx_proxy_vip_name": ""},
        [
            "nginx_proxy_vip_name '' is not a VIP name; set it to the name of the front door's "
            "jovial_vips entry (proxy)"
        ],
        id="vip-name-empty",
    ),
    # --- public name
    pytest.param(
        {"site.nginx_proxy_server_name": DELETE},
        [f"nginx_proxy_server_name is not set; {SERVER_NAME_FIX}"],
        id="server-name-missing",
    ),
    pytest.param(
        {"site.nginx_proxy_server_name": ""},
        [f"nginx_proxy_server_name is not set; {SERVER_NAME_FIX}"],
        id="server-name-empty",
    ),
    pytest.param(
        {"site.nginx_proxy_server_name": "https://jupyter.obs.example.org/"},
        [
            "nginx_proxy_server_name 'https://jupyter.obs.example.org/' is not a DNS name; use "
            "dot-separated labels of letters, digits and '-' (e.g. jupyter.obs.example.org)"
        ],
        id="server-name-is-a-url",
    ),
    # --- upstreams
    pytest.param(
        {"site.nginx_proxy_upstreams": []},
        [
            "nginx_proxy_upstreams is not set; list the host:port of the service behind the "
            "front door in group_vars/all/proxy.yml, e.g. ['hub01:8000']"
        ],
        id="upstreams-empty",
    ),
    pytest.param(
        {"site.nginx_proxy_upstreams": "hub1:8000"},
        [
            "nginx_proxy_upstreams: expected a list of host:port, got a string ('hub1:8000'); "
            "write it as e.g. ['hub01:8000']"
        ],
        id="upstreams-string",
    ),
    pytest.param(
        {"site.nginx_proxy_upstreams": ["hub1", "hub1:70000", "http://hub1:8000", 8000]},
        [
            "nginx_proxy_upstreams[0]: 'hub1' is not host:port; write e.g. 'hub01:8000'",
            "nginx_proxy_upstreams[1]: 'hub1:70000' is not host:port; write e.g. 'hub01:8000'",
            "nginx_proxy_upstreams[2]: 'http://hub1:8000' is not host:port; write e.g. "
            "'hub01:8000'",
            "nginx_proxy_upstreams[3]: 8000 is not host:port; write e.g. 'hub01:8000'",
        ],
        id="upstreams-malformed",
    ),
    pytest.param(
        {"site.nginx_proxy_upstreams": ["10.77.0.31:8000", "[fd00::31]:8000"]},
        [],
        id="upstreams-addresses",
    ),
    # --- certificate inputs
    pytest.param(
        {"site.nginx_proxy_tls_source": "letsencrypt"},
        [
            "nginx_proxy_tls_source 'letsencrypt' is not site_ca or files; use site_ca (a "
            "certificate from the site CA) or files (nginx_proxy_tls_cert_file and _key_file)"
        ],
        id="tls-source-unknown",
    ),
    pytest.param(
        {"site.jovial_pki_dir": DELETE},
        [
            "jovial_pki_dir is not set and nginx_proxy_tls_source is site_ca; set jovial_pki_dir "
            "in group_vars/all/site.yml to the site CA's directory on the control node"
        ],
        id="site-ca-without-pki-dir",
    ),
    pytest.param(FILES, [], id="tls-files-valid"),
    pytest.param(
        {"site.nginx_proxy_tls_source": "files", "site.nginx_proxy_tls_key_file": ""},
        [
            "nginx_proxy_tls_cert_file is not set and nginx_proxy_tls_source is files; set it to "
            "the absolute path of the front door's PEM certificate chain on the control node",
            "nginx_proxy_tls_key_file is not set and nginx_proxy_tls_source is files; set it to "
            "the absolute path of the front door's PEM private key on the control node",
        ],
        id="tls-files-missing",
    ),
    pytest.param(
        {**FILES, "site.nginx_proxy_tls_key_file": "front/privkey.pem"},
        [
            "nginx_proxy_tls_key_file 'front/privkey.pem' is not an absolute path; set it to the "
            "absolute path of the front door's PEM private key on the control node"
        ],
        id="tls-files-relative",
    ),
    # --- when the check stays quiet
    # Proxy hosts without group_vars/all/proxy.yml: only the role's defaults (the VIP name and
    # the TLS source), so the gate asks for what only the inventory can give.
    pytest.param(
        {"site.nginx_proxy_server_name": DELETE, "site.nginx_proxy_upstreams": DELETE},
        [
            f"nginx_proxy_server_name is not set; {SERVER_NAME_FIX}",
            "nginx_proxy_upstreams is not set; list the host:port of the service behind the "
            "front door in group_vars/all/proxy.yml, e.g. ['hub01:8000']",
        ],
        id="no-proxy-settings-of-the-inventory",
    ),
    # --- TLS to the upstreams (nginx_proxy_upstream_tls, the role's default true)
    pytest.param(
        {
            "site.nginx_proxy_upstream_tls": True,
            "site.nginx_proxy_upstream_tls_name": "hub1",
        },
        [],
        id="upstream-tls-name-valid",
    ),
    pytest.param(
        {
            "site.nginx_proxy_upstream_tls": True,
            "site.nginx_proxy_upstream_tls_name": "[fd00::1]",
        },
        [
            "nginx_proxy_upstream_tls_name '[fd00::1]' is not a DNS name; set it to the name the "
            "upstreams' certificates carry (nginx checks it), or nginx_proxy_upstream_tls: false "
            "for a plain-HTTP test upstream"
        ],
        id="upstream-tls-name-an-ipv6-literal",
    ),
    pytest.param(
        {
            "site.nginx_proxy_upstream_tls": False,
            "site.nginx_proxy_upstream_tls_name": "",
        },
        [],
        id="plain-http-upstream-needs-no-tls-name",
    ),
    pytest.param(
        {"groups.proxy": [], "site.jovial_vips.0.group": "spare_edges"},
        [],
        id="no-proxy-hosts",
    ),
    pytest.param(
        {"unresolved": {"nginx_proxy_server_name": "AnsibleUndefinedVariable: 'x' is undefined"}},
        [
            "nginx_proxy_server_name could not be templated (AnsibleUndefinedVariable: 'x' is "
            "undefined); fix its value in group_vars/all"
        ],
        id="server-name-unresolved",
    ),
]


@pytest.mark.parametrize("changes,expected", CASES)
def test_broken_front_door_reports_exactly(changes, expected):
    assert im.validate(build(changes)) == expected


def test_every_front_door_problem_at_once():
    problems = im.check_proxy(
        build(
            {
                "site.nginx_proxy_server_name": DELETE,
                "site.nginx_proxy_upstreams": ["hub1"],
                "site.nginx_proxy_tls_source": "acme",
                "site.jovial_vips.0.group": "spare_edges",
            }
        )
    )
    assert [p.split(":")[0].split(" ")[0] for p in problems] == [
        "jovial_vips[proxy]",
        "nginx_proxy_server_name",
        "nginx_proxy_upstreams[0]",
        "nginx_proxy_tls_source",
    ]
