"""The Dask layer's checks: Dask Gateway beside the hub (roles/dask_gateway;
tests/unit/plugins/module_utils/test_inventory_model_dask.py).
"""

from __future__ import annotations

from . import inventory_core as core
from .inventory_core import InventoryModel

# Dask Gateway's limits (check_dask_gateway): name -> the least value allowed. Their defaults
# are the dask_gateway role's (ROLE_DEFAULTS, inventory_model.py).
DASK_GATEWAY_LIMITS: dict[str, int] = {
    "dask_gateway_worker_cores": 1,
    "dask_gateway_scheduler_cores": 1,
    "dask_gateway_cluster_max_workers": 1,
    "dask_gateway_cluster_max_cores": 1,
    "dask_gateway_clusters_per_user": 0,
    "dask_gateway_idle_timeout": 0,
    "dask_gateway_server_check_period": 0,
}
# What each scheduler and worker is given (cores above, memory here): on a hub on Kubernetes
# (dask_gateway: true) they are its pods' limits, within the hub's LimitRange maximum
# (inventory_hubs._hub_dask_problems).
DASK_GATEWAY_SIZES: tuple[str, ...] = (
    "dask_gateway_worker_memory",
    "dask_gateway_scheduler_memory",
)
DASK_GATEWAY_SECRET = "vault_dask_gateway_api_token"


def check_dask_gateway(model: InventoryModel) -> list[str]:
    """Dask Gateway (group dask_gateway): each gateway host is a jupyterhub host of the systemd
    backend (users' clusters run there from the users' environment, and the hub there is the
    gateway's way in), its JupyterHub service token is a listed vault secret, and its limits
    are whole numbers in range."""
    gateways = core._group(model, "dask_gateway")
    if not gateways:
        return []
    problems: list[str] = []
    hubs = set(core._group(model, "jupyterhub"))
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
            f"group dask_gateway has {core.join_and(gateways)} but jupyterhub_backend is "
            f"{core.show(backend)}; group dask_gateway is the systemd backend's gateway (beside "
            "its hub). For a hub on Kubernetes set dask_gateway: true on it in jupyterhub_hubs "
            "(its gateway runs in its namespace) and empty group dask_gateway"
        )
    problems.extend(token_problems(model))
    for name, least in DASK_GATEWAY_LIMITS.items():
        if name in model.unresolved or name not in model.site:
            continue
        value = model.site[name]
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if not core._is_int(value) or value < least:
            problems.append(
                f"{name} is {core.show(model.site[name])}; set a whole number of at least {least} "
                "(roles/dask_gateway/README.md)"
            )
    return problems


def token_problems(model: InventoryModel, prefix: str = "") -> list[str]:
    """The gateway's JupyterHub service token (the systemd gateway's and the hubs' on
    Kubernetes alike): listed in jovial_required_secrets, 32+ characters (never shown).
    ``prefix`` names who needs it (e.g. the hub)."""
    required = model.site.get("jovial_required_secrets")
    if "jovial_required_secrets" in model.unresolved or not core._is_list(required):
        return []
    if DASK_GATEWAY_SECRET not in required:
        return [
            f"{prefix}jovial_required_secrets does not list {DASK_GATEWAY_SECRET}; the "
            "gateway's JupyterHub service token: add it there and a random value of 32+ "
            "characters to group_vars/all/vault.yml"
        ]
    if len(str(model.secrets.get(DASK_GATEWAY_SECRET) or "")) < 32:
        return [
            f"{prefix}{DASK_GATEWAY_SECRET} has fewer than 32 characters (value not shown); set "
            "a random string of 32+ characters in group_vars/all/vault.yml"
        ]
    return []
