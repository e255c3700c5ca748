"""The whole hub configuration of the kubernetes backend, as one function.

The hub pod's ``jupyterhub_config.py`` (ConfigMap rendered from
roles/jupyterhub/templates/k8s/hub.yaml.j2) is only::

    from jovial_hub.hubconfig import configure_kubernetes_from_files
    configure_kubernetes_from_files(c, "/etc/jupyterhub/jovial-kube.json",
                                    "/etc/jupyterhub-secret/jovial-ldap.json")

``jovial-kube.json`` holds the non-secret settings (``hub``, ``kubespawner``, ``culler``,
``dask_gateway``); ``jovial-ldap.json`` (a Secret) the ``ldap`` settings with the service
account's password; the gateway's service token, when the hub has one, comes from the Secret
as ``$JOVIAL_DASK_GATEWAY_TOKEN``.
Which traitlet is set by which builder is listed in docs/jupyterhub.md.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import config as hubconf
from .accounting import Ledger
from .identity import LdapSettings, lookup_identity
from .kube import KubeSettings, SpawnHooks, kubespawner_config

__all__ = ["configure_kubernetes", "configure_kubernetes_from_files", "identity_settings"]

# The hub pod's variable with the Dask Gateway's service token (from the Secret).
DASK_GATEWAY_TOKEN_ENV = "JOVIAL_DASK_GATEWAY_TOKEN"

# Seconds between the hub's reads of the proxy's routes (activity, and missing routes re-added).
LAST_ACTIVITY_INTERVAL = 60

CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]


def identity_settings(ldap: Mapping[str, Any]) -> LdapSettings:
    """The identity lookup's settings from the same ``ldap`` block the authenticator uses."""
    keys = ("uris", "base_dn", "bind_dn", "bind_password", "ca_file", "crl_file",
            "user_base", "group_base", "min_uid", "timeout")  # fmt: skip
    values = {k: ldap[k] for k in keys if k in ldap and ldap[k] not in (None, "")}
    if "min_uid" in values:
        values["min_uid"] = int(values["min_uid"])
    return LdapSettings.from_dict(values)


def hub_traits(hub: Mapping[str, Any]) -> dict[str, Any]:
    """JupyterHub traits: hub API on the pod network, external proxy, SQLite on the hub's
    local volume, user servers left running when the hub stops."""
    state = Path(hub.get("state_dir", "/srv/jupyterhub"))
    return {
        # The hub's path behind the front door (/<hub name>/: several hubs share one name).
        "base_url": str(hub.get("base_url", "/")),
        "hub_bind_url": "http://:8081",
        "hub_connect_url": f"http://{hub.get('hub_service', 'hub')}:8081",
        "db_url": f"sqlite:///{state / 'jupyterhub.sqlite'}",
        "cookie_secret_file": str(state / "jupyterhub_cookie_secret"),
        "cleanup_servers": False,
        "cleanup_proxy": False,
        # The proxy runs in its own pod: when it is replaced (a new certificate or token rolls
        # it) the hub puts the users' routes back at its next check, every minute (default 5).
        "last_activity_interval": LAST_ACTIVITY_INTERVAL,
        "authenticator_class": hubconf.AUTHENTICATOR_CLASS,
        # KubeSpawner, with a pod refused by the namespace's quota told to the user as such.
        "spawner_class": "jovial_hub.spawner.JovialKubeSpawner",
    }


def culler_traits(culler: Mapping[str, Any]) -> dict[str, Any]:
    """The idle culler as a hub-managed service with only the scopes it needs."""
    cmd = [
        sys.executable,
        "-m",
        "jupyterhub_idle_culler",
        f"--timeout={int(culler.get('timeout', 3600))}",
        f"--cull-every={int(culler.get('every', 600))}",
    ]
    if int(culler.get("max_age", 0)):
        cmd.append(f"--max-age={int(culler['max_age'])}")
    return {
        "services": [{"name": "idle-culler", "command": cmd}],
        "load_roles": [
            {"name": "idle-culler", "scopes": CULLER_SCOPES, "services": ["idle-culler"]}
        ],
    }


def configure_kubernetes(c: Any, kube: Mapping[str, Any], ldap: Mapping[str, Any]) -> None:
    """Set every traitlet of the kubernetes backend on the config object ``c``."""
    hub = kube.get("hub", {})
    state = Path(hub.get("state_dir", "/srv/jupyterhub"))
    traits = hub_traits(hub)
    traits.update(culler_traits(kube.get("culler", {})))
    gateway = kube.get("dask_gateway") or None
    spawner_extra: dict[str, Any] = {}
    if gateway:
        # The hub's Dask Gateway (a Deployment in its namespace, roles/jupyterhub
        # templates/k8s/dask-gateway.yaml.j2): its service, and every server pointed at it.
        services, roles = hubconf.dask_gateway_service(
            {"url": gateway["url"], "api_token": os.environ.get(DASK_GATEWAY_TOKEN_ENV, "")}
        )
        traits["services"] = [*traits["services"], *services]
        traits["load_roles"] = [*traits["load_roles"], *roles]
        spawner_extra["server_token_scopes"] = [
            *hubconf.SERVER_TOKEN_SCOPES,
            hubconf.DASK_GATEWAY_ACCESS,
        ]
    hubconf.apply(c, "JupyterHub", traits)
    hubconf.apply(
        c,
        "ConfigurableHTTPProxy",
        {"should_start": False, "api_url": hub.get("proxy_api_url", "http://proxy-api:8001")},
    )
    hubconf.apply(c, "JovialLDAPAuthenticator", hubconf.authenticator_config(ldap))
    spawner_settings = dict(kube["kubespawner"])
    if gateway:
        spawner_settings["environment"] = {
            **spawner_settings.get("environment", {}),
            **hubconf.dask_gateway_client_env(
                gateway["address"], gateway["proxy_address"], gateway["public_address"]
            ),
        }
    settings = KubeSettings.from_dict(spawner_settings)
    hooks = SpawnHooks(
        settings,
        lookup=functools.partial(lookup_identity, identity_settings(ldap)),
        ledger=Ledger(state / "accounting.sqlite"),
    )
    hubconf.apply(c, "KubeSpawner", {**kubespawner_config(settings, hooks), **spawner_extra})


def configure_kubernetes_from_files(c: Any, kube_path: str | Path, ldap_path: str | Path) -> None:
    """:func:`configure_kubernetes` with the two settings files mounted in the hub pod."""
    ldap = hubconf.load_settings(ldap_path)
    configure_kubernetes(c, hubconf.load_settings(kube_path), ldap.get("ldap", ldap))
