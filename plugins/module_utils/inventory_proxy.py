"""The proxy layer's checks: the front door (roles nginx_proxy and keepalived;
tests/unit/plugins/module_utils/test_inventory_model_proxy.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import inventory_core as core
from .inventory_core import InventoryModel

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
        and all(core._DNS_LABEL.match(label) for label in value.split("."))
    )


def _proxy_vip(model: InventoryModel, vip_name: str, problems: list[str]) -> None:
    """The proxy VIP exists and is carried by exactly the hosts of group proxy."""
    vips = model.site.get("jovial_vips")
    if "jovial_vips" in model.unresolved or (vips is not None and not core._is_list(vips)):
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
    proxies = sorted(core._group(model, "proxy"))
    carriers = sorted(core._group(model, group))
    if carriers != proxies:
        problems.append(
            f"jovial_vips[{vip_name}]: carried by group {group} "
            f"({core.join_and(carriers) if carriers else 'none'}) but group proxy is "
            f"{core.join_and(proxies)}; the front door's VIP must move between exactly the proxy "
            "hosts: set its group to proxy"
        )


def _proxy_upstreams(model: InventoryModel, problems: list[str]) -> None:
    if "nginx_proxy_upstreams" in model.unresolved:
        return
    value = model.site.get("nginx_proxy_upstreams")
    example = "['hub01:8000']"
    if value is None or (core._is_list(value) and not value):
        problems.append(
            "nginx_proxy_upstreams is not set; list the host:port of the service behind the "
            f"front door in group_vars/all/proxy.yml, e.g. {example}"
        )
        return
    if not core._is_list(value):
        problems.append(
            f"nginx_proxy_upstreams: expected a list of host:port, {core._got(value)}; "
            f"write it as e.g. {example}"
        )
        return
    for position, item in enumerate(value):
        match = _HOST_PORT.match(item) if isinstance(item, str) else None
        if match is None or not 1 <= int(match["port"]) <= 65535:
            problems.append(
                f"nginx_proxy_upstreams[{position}]: {core.show(item)} is not host:port; "
                "write e.g. 'hub01:8000'"
            )


def _proxy_certificate(model: InventoryModel, problems: list[str]) -> None:
    if "nginx_proxy_tls_source" in model.unresolved:
        return
    source = model.site.get("nginx_proxy_tls_source")
    if source not in PROXY_TLS_SOURCES:
        problems.append(
            f"nginx_proxy_tls_source {core.show(source)} is not site_ca or files; use site_ca (a "
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
                f"{variable} {core.show(value)} is not an absolute path; set it to the absolute "
                f"path of the front door's {what} on the control node"
            )


def check_proxy(model: InventoryModel) -> list[str]:
    """The front door, when group proxy has hosts: the VIP named nginx_proxy_vip_name exists and
    is carried by exactly group proxy, nginx_proxy_server_name is a DNS name, the upstreams are
    host:port (with TLS, under a name nginx can check), and the certificate inputs fit
    nginx_proxy_tls_source."""
    if not core._group(model, "proxy"):
        return []  # no front door at this site
    problems: list[str] = []
    vip_name = model.site.get("nginx_proxy_vip_name")
    if "nginx_proxy_vip_name" not in model.unresolved:
        if isinstance(vip_name, str) and vip_name:
            _proxy_vip(model, vip_name, problems)
        else:
            problems.append(
                f"nginx_proxy_vip_name {core.show(vip_name)} is not a VIP name; set it to the name "
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
                f"nginx_proxy_server_name {core.show(name)} is not a DNS name; use dot-separated "
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
        f"nginx_proxy_upstream_tls_name {core.show(name)} is not a DNS name; set it to the name "
        "the upstreams' certificates carry (nginx checks it), or nginx_proxy_upstream_tls: false "
        "for a plain-HTTP test upstream"
    )
