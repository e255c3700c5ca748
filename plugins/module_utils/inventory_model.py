"""The Jovial inventory model's checks, all of them (docs/inventory.md, "What validation checks").

Everything works on plain Python data: the inventory's groups, each managed host's variables and
the site-wide variables, already templated by the caller (the controller-side action plugin
``plugins/action/jovial_validate.py``, which loads this module). Nothing imports Ansible, so the
checks are unit-tested directly (``tests/unit/plugins/module_utils/test_inventory_*.py``).

The checks are small functions, one per concern, each taking the whole model and returning a
list of problems: one sentence per problem that names the host or variable, shows the value seen
and says how to fix it. They live in one module per layer, next to this one:

- inventory_core.py: the model, the shared helpers, and the whole-site checks (site, networks,
  hostnames, addresses, VIPs, secrets, uid/gid ranges);
- inventory_etcd.py, inventory_storage.py, inventory_ldap.py, inventory_proxy.py,
  inventory_hubs.py, inventory_dask.py, inventory_kubernetes.py, inventory_ssh.py,
  inventory_firewall.py, inventory_site_ca.py: each layer's checks and constants.

This module lists them (CHECKERS, and which a layer playbook or site.yml runs), the variables
the action plugin must collect for them (SITE_VARIABLES, HOST_VARIABLES, ROLE_DEFAULTS), and
runs them (validate, summary). A layer that needs more checks adds its function to its module
and to CHECKERS, and the site variables it reads to SITE_VARIABLES.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .inventory_core import (
    MANAGED_GROUPS,
    Checker,
    InventoryModel,
    _group,
    _is_list,
    check_addresses,
    check_backup_stores,
    check_groups,
    check_hostnames,
    check_id_ranges,
    check_networks,
    check_secrets,
    check_site,
    check_unresolved,
    check_vips,
    managed_hosts,
    required_secret_names,
)
from .inventory_dask import DASK_GATEWAY_LIMITS, DASK_GATEWAY_SIZES, check_dask_gateway
from .inventory_etcd import check_etcd, check_etcd_settings, etcd_members
from .inventory_firewall import FIREWALL_SETTINGS, check_firewall
from .inventory_hubs import JUPYTERHUB_SETTINGS, check_jupyterhub, check_jupyterhub_hubs
from .inventory_kubernetes import KUBERNETES_SETTINGS, check_kubernetes
from .inventory_ldap import check_ldap_directory, check_ldap_providers, check_ldap_tls
from .inventory_proxy import check_proxy
from .inventory_site_ca import SITE_CA_SETTINGS, check_site_ca
from .inventory_ssh import SSH_SETTINGS, check_ssh
from .inventory_storage import (
    HA_CLUSTER_CHOICES,
    LAB_MARKER,
    check_fencing,
    check_home_root,
    check_infiniband,
    check_lnet,
    check_lustre_backend,
    check_lustre_client,
    check_lustre_pairs,
    check_lustre_quotas,
    check_lustre_targets,
    check_moosefs,
)

# Site-wide variables (group_vars/all) the checkers read. The action plugin templates these
# from the control node's variables; the vault_* variables named by jovial_required_secrets are
# collected separately (InventoryModel.secrets).
SITE_VARIABLES: tuple[str, ...] = (
    # LDAP layer (check_ldap_*)
    "ldap_base_dn",
    "ldap_users",
    "ldap_groups",
    "ldap_uris",
    "ldap_providers",
    "ldap_write_provider",
    "jovial_site",
    "jovial_domain",
    "jovial_networks",
    "jovial_vips",
    "etcd_members",
    "lustre_targets",
    "jovial_required_secrets",
    "jovial_uid_range",
    "jovial_gid_range",
    # proxy layer (check_proxy)
    "jovial_pki_dir",
    "nginx_proxy_vip_name",
    "nginx_proxy_server_name",
    "nginx_proxy_upstreams",
    "nginx_proxy_tls_source",
    "nginx_proxy_tls_cert_file",
    "nginx_proxy_tls_key_file",
    "nginx_proxy_upstream_tls",
    "nginx_proxy_upstream_tls_name",
    # jupyterhub layer (check_jupyterhub_hubs)
    "jupyterhub_backend",
    "jupyterhub_hubs",
    "jupyterhub_k8s_hub_db_node",
    *JUPYTERHUB_SETTINGS,
    # etcd layer (check_etcd_settings)
    "etcd_install_method",
    "etcd_release_version",
    "etcd_release_sha256",
    "etcd_release_source",
    "etcd_client_port",
    "etcd_peer_port",
    "etcd_metrics_port",
    "etcd_heartbeat_interval",
    "etcd_election_timeout",
    "etcd_quota_backend_bytes",
    "etcd_cert_valid_days",
    "etcd_cert_extra_sans",
    # storage layer (check_lustre_backend, check_lnet, check_fencing)
    "lustre_fsname",
    "lustre_server_backend",
    "lnet_networks",
    # the failover pairs' Pacemaker policies (check_fencing; defaults from the ha_cluster role)
    *HA_CLUSTER_CHOICES,
    # science groups' quotas on the shared filesystem (check_lustre_quotas)
    "lustre_quotas",
    # where clients mount the filesystem and where homes live (check_home_root), the clients'
    # tunables (check_lustre_client)
    "lustre_client_mount_root",
    "lustre_client_tunables",
    "ldap_client_home_root",
    # lab_ext4 is for the lab (recognised by LAB_MARKER) or an inventory that allows it
    LAB_MARKER,
    "jovial_allow_lab_ext4",
    # Kubernetes layer (check_kubernetes; defaults from the kubernetes role, ROLE_DEFAULTS)
    *KUBERNETES_SETTINGS,
    # Dask layer (check_dask_gateway; defaults from the dask_gateway role, ROLE_DEFAULTS)
    *DASK_GATEWAY_LIMITS,
    *DASK_GATEWAY_SIZES,
    # common layer: the sshd baseline (check_ssh; defaults from the common role), the backup
    # stores (check_backup_stores)
    *SSH_SETTINGS,
    "common_backup_stores",
    # host firewall (check_firewall; defaults from the firewall role, ROLE_DEFAULTS)
    *FIREWALL_SETTINGS,
    # site CA lifetimes (check_site_ca; defaults from the site_ca role, ROLE_DEFAULTS)
    *SITE_CA_SETTINGS,
)

# Site variables whose defaults are a role's (roles/<role>/defaults/main.yml). When the
# inventory does not set one, the action plugin reads the role's defaults file and templates
# the default (with the inventory's variables and the role's other defaults), so the checks see
# what the role will use and no default is restated here. Each name is also in SITE_VARIABLES.
ROLE_DEFAULTS: dict[str, tuple[str, ...]] = {
    "kubernetes": KUBERNETES_SETTINGS,
    # The release the etcd role pins, and where a site fetches it from (which may name it).
    "etcd": (
        "etcd_install_method",
        "etcd_release_version",
        "etcd_release_source",
        "etcd_release_sha256",
        "etcd_heartbeat_interval",
        "etcd_election_timeout",
    ),
    "common": (*SSH_SETTINGS, "common_backup_stores"),
    "firewall": FIREWALL_SETTINGS,
    "site_ca": SITE_CA_SETTINGS,
    "lustre_client": ("lustre_client_mount_root", "lustre_client_tunables"),
    "ldap_client": ("ldap_client_home_root",),
    "nginx_proxy": (
        "nginx_proxy_vip_name",
        "nginx_proxy_tls_source",
        "nginx_proxy_upstream_tls",
        "nginx_proxy_upstream_tls_name",
    ),
    "jupyterhub": ("jupyterhub_backend", *JUPYTERHUB_SETTINGS),
    "ha_cluster": tuple(HA_CLUSTER_CHOICES),
    "dask_gateway": (*DASK_GATEWAY_LIMITS, *DASK_GATEWAY_SIZES),
}

# Per-host variables the checkers read (from hostvars of each managed host).
HOST_VARIABLES: tuple[str, ...] = (
    "jovial_address",
    # jupyterhub layer (check_jupyterhub_hubs): what each Kubernetes worker offers to pods
    "kube_node_allocatable",
    # storage layer: NIDs, fence devices, subnet manager priority, IPoIB addresses
    "lustre_nid",
    "ha_cluster_fence",
    "opensm_priority",
    "infiniband_ipoib_interfaces",
    # common layer: a group's or host's own sshd baseline (check_ssh)
    *SSH_SETTINGS,
)


CHECKERS: tuple[Checker, ...] = (
    check_unresolved,
    check_groups,
    check_site,
    check_networks,
    check_hostnames,
    check_addresses,
    check_backup_stores,
    check_ssh,
    check_etcd,
    check_etcd_settings,
    check_vips,
    check_lustre_targets,
    check_lustre_pairs,
    check_lustre_backend,
    check_moosefs,
    check_lustre_quotas,
    check_home_root,
    check_lustre_client,
    check_lnet,
    check_fencing,
    check_infiniband,
    check_secrets,
    check_id_ranges,
    check_proxy,
    check_ldap_providers,
    check_ldap_directory,
    check_ldap_tls,
    check_jupyterhub,
    check_jupyterhub_hubs,
    check_dask_gateway,
    check_kubernetes,
    check_firewall,
    check_site_ca,
)


# A layer playbook run on its own (playbooks/<layer>.yml) checks everything the inventory
# configures; site.yml, which stands up the whole site, also needs the site to have layers.
LAYER_CHECKERS: tuple[Checker, ...] = tuple(c for c in CHECKERS if c is not check_groups)
WHOLE_SITE_CHECKERS: tuple[Checker, ...] = CHECKERS


def validate(model: InventoryModel, checkers: Sequence[Checker] = CHECKERS) -> list[str]:
    """Every problem of the model, in checker order; an empty list means valid."""
    problems: list[str] = []
    for checker in checkers:
        try:
            problems.extend(checker(model))
        except Exception as exc:  # a bug in a checker must still give a readable answer
            problems.append(
                f"internal error: {checker.__name__} failed on this inventory "
                f"({type(exc).__name__}: {exc}); please report it as a Jovial bug"
            )
    return problems


def summary(model: InventoryModel) -> dict[str, Any]:
    """Counts for the success message (call on a valid model)."""
    vips = model.site.get("jovial_vips")
    targets = model.site.get("lustre_targets")
    members = etcd_members(model)
    return {
        "hosts": len(managed_hosts(model)),
        "groups": {
            name: len(_group(model, name)) for name in MANAGED_GROUPS if _group(model, name)
        },
        "etcd_members": len(members) if _is_list(members) else 0,
        "vips": len(vips) if _is_list(vips) else 0,
        "lustre_targets": len(targets) if _is_list(targets) else 0,
        "required_secrets": len(required_secret_names(model.site.get("jovial_required_secrets"))),
    }


def summary_text(model: InventoryModel) -> str:
    """'Inventory valid: 10 hosts, 3 etcd members, 1 VIP, 4 Lustre targets, 1 required secret
    set'."""
    counts = summary(model)

    def plural(count: int, word: str) -> str:
        return f"{count} {word}" if count == 1 else f"{count} {word}s"

    return (
        f"Inventory valid: {plural(counts['hosts'], 'host')}, "
        f"{plural(counts['etcd_members'], 'etcd member')}, {plural(counts['vips'], 'VIP')}, "
        f"{plural(counts['lustre_targets'], 'Lustre target')}, "
        f"{plural(counts['required_secrets'], 'required secret')} set"
    )


def problems_text(problems: Sequence[str]) -> str:
    """The failure message: a header and one numbered line per problem."""
    header = f"Inventory validation found {len(problems)} problem(s); nothing was changed:"
    width = len(str(len(problems)))
    lines = [f"  {n:>{width}}. {text}" for n, text in enumerate(problems, start=1)]
    return "\n".join([header, *lines])
