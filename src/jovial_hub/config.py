"""Build the hub's traitlets configuration from plain settings (what the role renders).

Each builder returns ``{trait: value}`` for one configurable class; :func:`apply` assigns
them on the hub's config object. Builders set complete values (never append to or mutate a
configured list or dict), so the configuration is the same whatever ran before.

In ``jupyterhub_config.py``::

    from jovial_hub import config
    settings = config.load_settings("/etc/jupyterhub/jovial.json")
    config.apply(c, "JovialLDAPAuthenticator", config.authenticator_config(settings["ldap"]))
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "apply",
    "authenticator_config",
    "dask_gateway_client_env",
    "dask_gateway_service",
    "dask_gateway_spawner_config",
    "hub_services_config",
    "load_settings",
]

AUTHENTICATOR_CLASS = "jovial_hub.auth.JovialLDAPAuthenticator"


def load_settings(path: str | Path) -> dict[str, Any]:
    """The hub's settings file (JSON written by the role)."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def apply(config: Any, section: str, traits: Mapping[str, Any]) -> None:
    """``config.<section>.<trait> = value`` for every trait (``config`` is the ``c`` of a
    JupyterHub config file, a ``traitlets.config.Config``)."""
    target = config[section]
    for name, value in traits.items():
        target[name] = value


def _servers(uris: list[str]) -> tuple[list[str], str, int]:
    """Host names, TLS strategy and port from an LDAP URI list (all must use one scheme and
    one port: LDAPAuthenticator has one port and one TLS setting)."""
    if not uris:
        raise ValueError("ldap.uris is empty: list the directory's ldaps:// URIs")
    parts = [urlsplit(u) for u in uris]
    schemes = {p.scheme for p in parts}
    if not schemes <= {"ldaps", "ldap"} or len(schemes) != 1:
        raise ValueError(f"ldap.uris {uris}: use only ldaps:// (or only ldap:// with StartTLS)")
    scheme = schemes.pop()
    ports = {p.port or (636 if scheme == "ldaps" else 389) for p in parts}
    if len(ports) != 1:
        raise ValueError(f"ldap.uris {uris}: every URI must use the same port")
    hosts = [p.hostname or "" for p in parts]
    if not all(hosts):
        raise ValueError(f"ldap.uris {uris}: every URI needs a host name")
    return hosts, "on_connect" if scheme == "ldaps" else "before_bind", ports.pop()


def authenticator_config(ldap: Mapping[str, Any]) -> dict[str, Any]:
    """Traits of :class:`jovial_hub.auth.JovialLDAPAuthenticator` from the ``ldap`` settings:

    ``uris`` (tried in order), ``ca_file`` (TLS is always verified), ``crl_file`` (optional:
    the CA's CRL, which each server's certificate is then checked against too), ``base_dn``,
    ``user_base`` (default ``ou=people,<base_dn>``), ``group_base`` (default
    ``ou=groups,<base_dn>``), ``bind_dn``/``bind_password`` (the read-only service account:
    the user's DN is looked up with it; without it the DN is ``uid=<user>,<user_base>``),
    ``allowed_groups`` and ``admin_groups`` (group names, under ``group_base``).
    """
    hosts, tls_strategy, port = _servers(list(ldap.get("uris") or []))
    if not ldap.get("ca_file"):
        raise ValueError("ldap.ca_file is not set: the directory's CA certificate is required")
    base_dn = ldap.get("base_dn") or ""
    user_base = ldap.get("user_base") or f"ou=people,{base_dn}"
    group_base = ldap.get("group_base") or f"ou=groups,{base_dn}"
    admin_groups = [f"cn={g},{group_base}" for g in ldap.get("admin_groups") or []]
    allowed = [f"cn={g},{group_base}" for g in ldap.get("allowed_groups") or []]
    allowed_groups = list(dict.fromkeys(allowed + admin_groups))
    traits: dict[str, Any] = {
        "server_address": hosts[0],
        "server_addresses": hosts,
        "server_port": port,
        "tls_strategy": tls_strategy,
        "tls_kwargs": {"ca_certs_file": str(ldap["ca_file"]), "validate": 2},  # CERT_REQUIRED
        "crl_file": str(ldap.get("crl_file") or ""),
        "user_search_base": user_base,
        "user_attribute": "uid",
        "valid_username_regex": r"^[a-z_][a-z0-9_-]{0,31}$",
        "allowed_groups": allowed_groups,
        # No allowed groups configured: every directory user may log in (JupyterHub 5 allows
        # nobody by default). The admin groups stay in allowed_groups only so that
        # LDAPAuthenticator reports their membership (admin flag); they must not restrict login.
        "allow_all": not allowed,
        "admin_groups": admin_groups,
        "group_search_filter": "(&(objectClass=posixGroup)(memberUid={uid}))",
        "group_attributes": ["memberUid"],
    }
    if ldap.get("bind_dn"):
        if not ldap.get("bind_password"):
            raise ValueError("ldap.bind_password is empty while ldap.bind_dn is set")
        traits.update(
            {
                "lookup_dn": True,
                "bind_dn_template": [],
                "lookup_dn_search_user": str(ldap["bind_dn"]),
                "lookup_dn_search_password": str(ldap["bind_password"]),
                "lookup_dn_search_filter": "(&(objectClass=posixAccount)({login_attr}={login}))",
                "lookup_dn_user_dn_attribute": "uid",
            }
        )
    else:
        traits.update({"lookup_dn": False, "bind_dn_template": [f"uid={{username}},{user_base}"]})
    return traits


# What the operators' verification (playbooks/verify.yml, module jupyterhub_status) may read:
# the user list and server states, nothing that changes or reads user content.
VERIFY_SCOPES = ("list:users", "read:users", "read:servers")
CULLER_SCOPES = ("list:users", "read:users:activity", "read:servers", "delete:servers")
# Dask Gateway (roles/dask_gateway) is the hub service of this name. Its own token may only
# see who has a server (it stops the clusters of users who have none); users reach it with the
# access scope, which every user holds and their servers' tokens carry.
DASK_GATEWAY_SERVICE = "dask-gateway"
DASK_GATEWAY_SCOPES = ("read:users:name", "read:servers")
DASK_GATEWAY_ACCESS = f"access:services!service={DASK_GATEWAY_SERVICE}"
# What a server's $JUPYTERHUB_API_TOKEN holds by default (JupyterHub's `server` role).
SERVER_TOKEN_SCOPES = ("users:activity!user", "access:servers!server")


def _gateway_token(gateway: Mapping[str, Any]) -> str:
    token = str(gateway.get("api_token") or "")
    if len(token) < 32:
        raise ValueError(
            "dask_gateway.api_token has fewer than 32 characters: set vault_dask_gateway_api_token "
            "to a longer random string"
        )
    return token


def hub_services_config(
    culler_command: list[str],
    verify_token: str | None = None,
    dask_gateway: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Traits ``services`` and ``load_roles`` of JupyterHub: the idle culler (a hub-managed
    service); when ``verify_token`` is set, ``jovial-verify``: an external service whose
    token holds only :data:`VERIFY_SCOPES`, used by verify.yml to check the hub through its
    REST API; when ``dask_gateway`` (``{"http_port", "api_token"}``) is given, the gateway as
    the service ``dask-gateway`` on this host (the hub's proxy routes /services/dask-gateway/
    to it) and the ``user`` role extended with the access scope to it."""
    if not culler_command:
        raise ValueError("culler_command is empty: the idle culler needs its command line")
    services: list[dict[str, Any]] = [{"name": "idle-culler", "command": list(culler_command)}]
    roles: list[dict[str, Any]] = [
        {"name": "idle-culler", "scopes": list(CULLER_SCOPES), "services": ["idle-culler"]}
    ]
    if verify_token:
        if len(verify_token) < 32:
            raise ValueError("the verify token has fewer than 32 characters: generate a longer one")
        services.append({"name": "jovial-verify", "api_token": verify_token})
        roles.append(
            {"name": "jovial-verify", "scopes": list(VERIFY_SCOPES), "services": ["jovial-verify"]}
        )
    if dask_gateway:
        gateway_services, gateway_roles = dask_gateway_service(dask_gateway)
        services += gateway_services
        roles += gateway_roles
    return {"services": services, "load_roles": roles}


def dask_gateway_service(
    dask_gateway: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(services, load_roles)`` entries of the gateway as the hub's service ``dask-gateway``
    (``{"api_token", "url"}``, or ``"http_port"`` for a gateway on this host: the hub's proxy
    routes /services/dask-gateway/ there) and the ``user`` role extended with the access scope
    to it."""
    url = dask_gateway.get("url") or f"http://127.0.0.1:{int(dask_gateway['http_port'])}"
    services = [
        {
            "name": DASK_GATEWAY_SERVICE,
            "url": str(url),
            "api_token": _gateway_token(dask_gateway),
            "display": False,
        }
    ]
    roles = [
        {
            "name": DASK_GATEWAY_SERVICE,
            "scopes": list(DASK_GATEWAY_SCOPES),
            "services": [DASK_GATEWAY_SERVICE],
        },
        {"name": "user", "scopes": ["self", DASK_GATEWAY_ACCESS]},
    ]
    return services, roles


def dask_gateway_client_env(
    address: str, proxy_address: str, public_address: str
) -> dict[str, str]:
    """The Dask Gateway client's configuration in a server's environment: the gateway's API
    (``address``), its scheduler proxy (``proxy_address``, TLS end to end), the dashboards'
    address for people (``public_address``) and JupyterHub authentication (the server's token)."""
    return {
        "DASK_GATEWAY__ADDRESS": address,
        "DASK_GATEWAY__PROXY_ADDRESS": proxy_address,
        "DASK_GATEWAY__PUBLIC_ADDRESS": public_address,
        "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
    }


def dask_gateway_spawner_config(
    dask_gateway: Mapping[str, Any] | None, hub_address: str, proxy_port: int, public_url: str
) -> dict[str, Any]:
    """Spawner traits that point every server at the gateway with no credentials to paste:
    the server's token also grants access to the gateway, and the Dask Gateway client's
    configuration comes from the environment. The client reaches the gateway's API through the
    hub's proxy (TLS, site CA) at ``https://<hub_address>:<proxy_port>/services/dask-gateway``,
    the schedulers on the gateway's TCP port on this host (TLS end to end), and dashboards are
    linked through the front door (``public_url``). ``{}`` without a gateway."""
    if not dask_gateway:
        return {}
    prefix = "/services/" + DASK_GATEWAY_SERVICE
    return {
        "server_token_scopes": [*SERVER_TOKEN_SCOPES, DASK_GATEWAY_ACCESS],
        "environment": dask_gateway_client_env(
            f"https://{hub_address}:{int(proxy_port)}{prefix}",
            f"tls://127.0.0.1:{int(dask_gateway['scheduler_port'])}",
            public_url.rstrip("/") + prefix,
        ),
    }
