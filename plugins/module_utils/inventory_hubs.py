"""The JupyterHub layer's checks: the hub of the jupyterhub hosts and the hubs on Kubernetes
(docs/inventory.md, "JupyterHub"; tests/unit/plugins/module_utils/test_inventory_model_hubs.py).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from typing import Any

from . import inventory_core as core
from .inventory_core import InventoryModel
from .inventory_dask import token_problems

# The hub's own settings check_jupyterhub reads. Their defaults are the jupyterhub role's
# (ROLE_DEFAULTS, inventory_model.py), which follow the site's LDAP settings (ldap_uris,
# ldap_base_dn, ldap_home_root).
JUPYTERHUB_SETTINGS: tuple[str, ...] = (
    "jupyterhub_ldap_uris",
    "jupyterhub_ldap_base_dn",
    "jupyterhub_home_root",
    "jupyterhub_min_uid",
)


# JupyterHub layer, Kubernetes backend (docs/inventory.md, "JupyterHub")

_K8S_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_HUB_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
NODE_PORT_RANGE = (30000, 32767)


def _hub_sizes() -> tuple[Callable[[Any], Any], Callable[[Mapping[str, Any]], list[str]]] | None:
    """parse_quantity and hub_problems of the jovial_hub package (installed in the control
    node's .venv by `make deps`), or None when it cannot be imported."""
    try:
        from jovial_hub.kube import hub_problems, parse_quantity
    except ImportError:
        return None
    return parse_quantity, hub_problems


# A Kubernetes hub is served under /<name>/ beside the default hub's own paths.
RESERVED_HUB_NAMES: tuple[str, ...] = ("hub", "user", "users", "services", "healthz", "status")


def check_jupyterhub_hubs(model: InventoryModel) -> list[str]:
    """The hubs on Kubernetes (jupyterhub_hubs; required with jupyterhub_backend kubernetes):
    every entry has a unique name (not a path the front door's default hub uses), namespace
    and NodePort, a quota (cpu, memory, pods) and profiles that fit its LimitRange and quota,
    and the hubs' quotas together fit what the kube_node workers declare
    (kube_node_allocatable)."""
    if "jupyterhub_hubs" in model.unresolved:
        return []
    hubs = model.site.get("jupyterhub_hubs")
    kubernetes_backend = model.site.get("jupyterhub_backend") == "kubernetes"
    if not kubernetes_backend and (hubs is None or hubs == []):
        return []
    if not core._is_list(hubs) or (kubernetes_backend and not hubs):
        return [
            f"jupyterhub_hubs is {core.show(hubs)}; with jupyterhub_backend kubernetes list at "
            "least one hub (name, namespace, node_port, quota, limitrange, profiles; "
            "docs/inventory.md)"
        ]
    sizes = _hub_sizes()
    if sizes is None:
        return [
            "jupyterhub_hubs cannot be checked: the jovial_hub package is not importable on the "
            "control node; run 'make deps' and use .venv/bin/ansible-playbook"
        ]
    parse_quantity, hub_problems = sizes
    problems: list[str] = []
    names: list[tuple[Any, str]] = []
    namespaces: list[tuple[Any, str]] = []
    ports: list[tuple[Any, str]] = []
    totals = {"cpu": 0, "memory": 0}
    for position, hub in enumerate(hubs):
        if not isinstance(hub, Mapping):
            problems.append(
                f"jupyterhub_hubs[{position}] is {core._got(hub)}; each hub is a mapping"
            )
            continue
        label = core._item_label("jupyterhub_hubs", position, hub.get("name"))
        name, namespace, port = hub.get("name"), hub.get("namespace"), hub.get("node_port")
        if not isinstance(name, str) or not _HUB_NAME.match(name):
            problems.append(
                f"{label}: name {core.show(name)} is not a hub name; use 1-20 lowercase letters, "
                "digits and '-', starting with a letter (e.g. astro)"
            )
        elif name in RESERVED_HUB_NAMES:
            problems.append(
                f"{label}: name {core.show(name)} is a path of the front door's default hub "
                f"(https://<front door>/{name}/); choose another name (e.g. astro)"
            )
        else:
            names.append((name, label))
        if not isinstance(namespace, str) or not _K8S_NAME.match(namespace):
            problems.append(
                f"{label}: namespace {core.show(namespace)} is not a Kubernetes namespace name; "
                "use lowercase letters, digits and '-' (e.g. hub-astro)"
            )
        else:
            namespaces.append((namespace, label))
        if not core._is_int(port) or not NODE_PORT_RANGE[0] <= port <= NODE_PORT_RANGE[1]:
            problems.append(
                f"{label}: node_port {core.show(port)} is not a NodePort; use a free port in "
                f"{NODE_PORT_RANGE[0]}-{NODE_PORT_RANGE[1]}"
            )
        else:
            ports.append((port, label))
        quota = hub.get("quota")
        if not isinstance(quota, Mapping) or not all(k in quota for k in ("cpu", "memory", "pods")):
            problems.append(
                f"{label}: quota is {core.show(quota)}; set quota: {{cpu, memory, pods}} (what all "
                "the hub's pods may request together)"
            )
            continue
        problems.extend(f"{label}: {text}" for text in hub_problems(hub))
        problems.extend(_hub_dask_problems(model, hub, label, parse_quantity))
        for key in totals:
            with contextlib.suppress(ValueError, TypeError):  # reported by hub_problems
                totals[key] += parse_quantity(quota[key])
    for kind, seen in (("name", names), ("namespace", namespaces), ("node_port", ports)):
        for value, labels in core._duplicates(seen).items():
            problems.append(
                f"jupyterhub_hubs: {core.join_and(labels)} share the {kind} {core.show(value)}; "
                f"each hub needs its own {kind}"
            )
    problems.extend(_hub_capacity(model, totals, parse_quantity))
    user_namespaces = model.site.get("kubernetes_user_namespaces")
    if "kubernetes_user_namespaces" not in model.unresolved and core._is_list(user_namespaces):
        for namespace, label in namespaces:
            if namespace not in user_namespaces:
                problems.append(
                    f"{label}: namespace {core.show(namespace)} is not in "
                    f"kubernetes_user_namespaces {core.show(user_namespaces)}; the hub deploys "
                    "into a namespace the kubernetes layer makes (Pod Security, default deny): "
                    "add it there, or leave kubernetes_user_namespaces to its default (every "
                    "hub's namespace)"
                )
    problems.extend(_hub_db_node_problems(model))
    return problems


def _hub_db_node_problems(model: InventoryModel) -> list[str]:
    """jupyterhub_k8s_hub_db_node, when set, is a Kubernetes node: the hubs' databases live on
    its local disk (a local PersistentVolume), and it backs them up."""
    node = model.site.get("jupyterhub_k8s_hub_db_node")
    if "jupyterhub_k8s_hub_db_node" in model.unresolved or node in (None, ""):
        return []
    nodes = sorted(
        set(core._group(model, "kube_node")) | set(core._group(model, "kube_control_plane"))
    )
    if node in nodes:
        return []
    return [
        f"jupyterhub_k8s_hub_db_node is {core.show(node)}, which is not a Kubernetes node; the "
        "hubs' databases live on that node's local disk: name one of "
        f"{core.join_and(nodes) or 'the kube_node hosts'}, or leave it empty with a local-volume "
        "provisioner (jupyterhub_k8s_hub_db_storage_class)"
    ]


JUPYTERHUB_BACKENDS: tuple[str, ...] = ("systemd", "kubernetes")
JUPYTERHUB_SECRET = "vault_jupyterhub_proxy_token"
JUPYTERHUB_VERIFY_SECRET = "vault_jupyterhub_verify_token"
_NOT_SET = object()  # a setting check_jupyterhub skips: unresolved, or not given to the model


def check_jupyterhub(model: InventoryModel) -> list[str]:
    """The hub of the jupyterhub hosts, where the site has a directory: a known backend, the
    directory it logs users in against (jupyterhub_ldap_uris and _base_dn, which follow
    ldap_uris and ldap_base_dn), an absolute home root, a uid floor above the system range, and
    its proxy token (and the optional verify token) as listed vault secrets of 32+ characters.
    The jupyterhub_* settings are the role's defaults unless the inventory sets them
    (ROLE_DEFAULTS)."""
    problems: list[str] = []
    backend = model.site.get("jupyterhub_backend")
    if (
        "jupyterhub_backend" not in model.unresolved
        and backend is not None
        and backend not in JUPYTERHUB_BACKENDS
    ):
        problems.append(
            f"jupyterhub_backend {core.show(backend)} is not systemd or kubernetes; use systemd "
            "(the hub on the jupyterhub hosts) or kubernetes (the hubs of jupyterhub_hubs)"
        )
    if not core._group(model, "jupyterhub") or not core._ldap_configured(model):
        # The hub logs users in against the directory: without one (no ldap_server hosts, no
        # ldap_base_dn) the inventory does not configure the hub layer, e.g. the storage
        # scenario, whose hub node is in group jupyterhub for its root access only.
        return problems
    site = model.site

    def setting(name: str) -> Any:
        return _NOT_SET if name in model.unresolved or name not in site else site[name]

    uris = setting("jupyterhub_ldap_uris")
    if uris is not _NOT_SET and (not core._is_list(uris) or not uris):
        problems.append(
            f"jupyterhub_ldap_uris is {core.show(uris)}; the hub logs users in against the "
            "directory: set ldap_uris in group_vars/all/ldap.yml (the hub follows it)"
        )
    base_dn = setting("jupyterhub_ldap_base_dn")
    if base_dn is not _NOT_SET and (not isinstance(base_dn, str) or not base_dn.strip()):
        problems.append(
            f"jupyterhub_ldap_base_dn is {core.show(base_dn)}; the hub looks users up under the "
            "directory's base DN: set ldap_base_dn in group_vars/all/ldap.yml (the hub follows it)"
        )
    home = setting("jupyterhub_home_root")
    if home is not _NOT_SET and (not isinstance(home, str) or not home.startswith("/")):
        problems.append(
            f"jupyterhub_home_root {core.show(home)} is not an absolute path; set ldap_home_root "
            "in group_vars/all/ldap.yml (the hub follows it) to where the users' homes are"
        )
    floor = setting("jupyterhub_min_uid")
    if isinstance(floor, str) and floor.strip().isdigit():
        floor = int(floor)
    if floor is not _NOT_SET and (not core._is_int(floor) or floor < core.ID_RANGE_FLOOR):
        problems.append(
            f"jupyterhub_min_uid is {core.show(site['jupyterhub_min_uid'])}; the hub spawns no "
            f"server below this uid: set a whole number of at least {core.ID_RANGE_FLOOR} (the "
            "start of jovial_uid_range, 10000, is usual)"
        )
    required = site.get("jovial_required_secrets")
    if (
        "jovial_required_secrets" not in model.unresolved
        and core._is_list(required)
        and JUPYTERHUB_SECRET not in required
    ):
        problems.append(
            f"jovial_required_secrets does not list {JUPYTERHUB_SECRET}; the hub and its "
            "proxy authenticate each other with it: add it there and a random value of 32+ "
            "characters to group_vars/all/vault.yml"
        )
    for name in (JUPYTERHUB_SECRET, JUPYTERHUB_VERIFY_SECRET):
        secret = model.secrets.get(name)
        if isinstance(secret, str) and secret.strip() and len(secret) < 32:
            problems.append(
                f"{name} has fewer than 32 characters (value not shown); set a random string "
                "of 32+ characters in group_vars/all/vault.yml"
            )
    return problems


def _hub_capacity(
    model: InventoryModel, totals: Mapping[str, Any], parse_quantity: Callable[[Any], Any]
) -> list[str]:
    """The hubs' quotas together within the sum of kube_node_allocatable of the workers."""
    workers = core._group(model, "kube_node")
    if not workers:
        return [
            "group kube_node is empty; the hubs on Kubernetes (jupyterhub_hubs) need the "
            "workers that run the users' pods (or list no hubs and use jupyterhub_backend: "
            "systemd)"
        ]
    problems: list[str] = []
    capacity = {"cpu": 0, "memory": 0}
    for host in workers:
        declared = model.hosts.get(host, {}).get("kube_node_allocatable")
        try:
            for key in capacity:
                capacity[key] += parse_quantity(declared[key])
        except (KeyError, TypeError, ValueError):
            problems.append(
                f"{host}: kube_node_allocatable is {core.show(declared)}; set what this worker "
                "offers to pods, e.g. {cpu: '60', memory: 480Gi} (capacity less system "
                "reservations)"
            )
    if problems:
        return problems
    for key, scale, unit in (("cpu", 1, " cores"), ("memory", 2**30, "Gi")):
        if totals[key] > capacity[key]:
            problems.append(
                f"jupyterhub_hubs: the quotas ask for {totals[key] / scale:.0f}{unit} of {key} "
                f"together but the kube_node workers declare {capacity[key] / scale:.0f}{unit} "
                "(kube_node_allocatable); lower the hubs' quota or add workers"
            )
    return problems


def _hub_dask_problems(
    model: InventoryModel, hub: Mapping[str, Any], label: str, parse_quantity: Callable[[Any], Any]
) -> list[str]:
    """A hub's ``dask_gateway`` (its own Dask Gateway in its namespace): true or false; with it
    the gateway's service token a listed vault secret of 32+ characters, and each scheduler and
    worker pod (the dask_gateway_* cores and memory are its limits) within the hub's LimitRange
    maximum, else the namespace refuses the pods."""
    if "dask_gateway" not in hub:
        return []
    value = hub["dask_gateway"]
    if not isinstance(value, bool):
        return [
            f"{label}: dask_gateway is {core.show(value)}; set true (the hub gets its own Dask "
            "Gateway, users' clusters as pods in its namespace) or false"
        ]
    if not value:
        return []
    problems = []
    maximum = (hub.get("limitrange") or {}).get("max") or {}
    for role in ("worker", "scheduler"):
        for key, name in (
            ("cpu", f"dask_gateway_{role}_cores"),
            ("memory", f"dask_gateway_{role}_memory"),
        ):
            if name in model.unresolved or name not in model.site or key not in maximum:
                continue
            try:
                too_big = parse_quantity(model.site[name]) > parse_quantity(maximum[key])
            except (ValueError, TypeError):
                continue  # the role's own checks (or dask) name a malformed size
            if too_big:
                problems.append(
                    f"{label}: dask_gateway is true but {name} is {core.show(model.site[name])}, "
                    f"above the hub's limitrange.max.{key} {core.show(maximum[key])}: each Dask "
                    f"{role} is a pod of the hub's namespace and would be refused; lower {name} "
                    f"or raise limitrange.max.{key}"
                )
    problems.extend(token_problems(model, prefix=f"{label}: dask_gateway is true but "))
    return problems
