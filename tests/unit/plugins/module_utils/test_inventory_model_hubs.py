"""check_jupyterhub_hubs (plugins/module_utils/inventory_hubs.py): the hubs of the Kubernetes
backend, their namespaces, quotas and profiles, against the workers' declared capacity.

Each case changes the valid model one way and states the exact problems reported.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible.module_utils import inventory_model as im

HUB = {
    "name": "astro",
    "namespace": "hub-astro",
    "node_port": 30080,
    "quota": {"cpu": "64", "memory": "256Gi", "pods": 40},
    "limitrange": {
        "default": {"cpu": "1", "memory": "4Gi"},
        "default_request": {"cpu": "500m", "memory": "2Gi"},
        "max": {"cpu": "8", "memory": "32Gi"},
    },
    "profiles": [
        {
            "name": "small",
            "display_name": "Small",
            "cpu": {"request": "500m", "limit": "1"},
            "memory": {"request": "2Gi", "limit": "4Gi"},
            "default": True,
        }
    ],
}
SOLAR = {**copy.deepcopy(HUB), "name": "solar", "namespace": "hub-solar", "node_port": 30081}


def model(**changes: Any) -> im.InventoryModel:
    site = {"jupyterhub_backend": "kubernetes", "jupyterhub_hubs": [HUB, SOLAR]}
    hosts = {
        "w1": {"kube_node_allocatable": {"cpu": "96", "memory": "384Gi"}},
        "w2": {"kube_node_allocatable": {"cpu": "32", "memory": "256Gi"}},
    }
    groups = {"kube_node": ["w1", "w2"]}
    site.update(changes.pop("site", {}))
    hosts.update(changes.pop("hosts", {}))
    groups.update(changes.pop("groups", {}))
    return im.InventoryModel(groups=groups, hosts=hosts, site=site)


def hub(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(HUB), **changes}


def test_valid_hubs_have_no_problems() -> None:
    assert im.check_jupyterhub_hubs(model()) == []
    assert im.check_jupyterhub_hubs in im.CHECKERS


def test_systemd_backend_does_not_need_hubs() -> None:
    assert (
        im.check_jupyterhub_hubs(
            model(
                site={"jupyterhub_backend": "systemd", "jupyterhub_hubs": []},
                groups={"kube_node": []},
            )
        )
        == []
    )


def test_hubs_beside_a_systemd_hub_are_checked_too() -> None:
    """The lab's shape: a systemd hub on the jupyterhub nodes and hubs on Kubernetes."""
    site = {"jupyterhub_backend": "systemd"}
    assert im.check_jupyterhub_hubs(model(site=site)) == []
    assert im.check_jupyterhub_hubs(model(site=site, groups={"kube_node": []})) == [
        "group kube_node is empty; the hubs on Kubernetes (jupyterhub_hubs) need the workers "
        "that run the users' pods (or list no hubs and use jupyterhub_backend: systemd)"
    ]


@pytest.mark.parametrize("name", ["hub", "user", "services"])
def test_a_hub_named_like_a_path_of_the_default_hub_is_refused(name: str) -> None:
    hubs = [hub(name=name, namespace="hub-x"), SOLAR]
    assert im.check_jupyterhub_hubs(model(site={"jupyterhub_hubs": hubs})) == [
        f"jupyterhub_hubs[{name}]: name {name!r} is a path of the front door's default hub "
        f"(https://<front door>/{name}/); choose another name (e.g. astro)"
    ]


@pytest.mark.parametrize(
    ("hubs", "expected"),
    [
        (
            [HUB, hub(node_port=30081)],
            [
                (
                    "jupyterhub_hubs: jupyterhub_hubs[astro] and jupyterhub_hubs[astro] share the "
                    "name 'astro'; each hub needs its own name"
                ),
                (
                    "jupyterhub_hubs: jupyterhub_hubs[astro] and jupyterhub_hubs[astro] share the "
                    "namespace 'hub-astro'; each hub needs its own namespace"
                ),
            ],
        ),
        (
            [HUB, {**SOLAR, "node_port": 30080}],
            [
                (
                    "jupyterhub_hubs: jupyterhub_hubs[astro] and jupyterhub_hubs[solar] share the "
                    "node_port 30080; each hub needs its own node_port"
                )
            ],
        ),
        (
            [hub(name="Astro_1", namespace="Hub.Astro", node_port=8080)],
            [
                (
                    "jupyterhub_hubs[Astro_1]: name 'Astro_1' is not a hub name; use 1-20 "
                    "lowercase letters, digits and '-', starting with a letter (e.g. astro)"
                ),
                (
                    "jupyterhub_hubs[Astro_1]: namespace 'Hub.Astro' is not a Kubernetes namespace "
                    "name; use lowercase letters, digits and '-' (e.g. hub-astro)"
                ),
                (
                    "jupyterhub_hubs[Astro_1]: node_port 8080 is not a NodePort; use a free "
                    "port in 30000-32767"
                ),
            ],
        ),
        (
            [hub(quota={"cpu": "8"})],
            [
                (
                    "jupyterhub_hubs[astro]: quota is {'cpu': '8'}; set quota: {cpu, memory, pods} "
                    "(what all the hub's pods may request together)"
                )
            ],
        ),
        (
            [hub(quota={"cpu": "64", "memory": "2Gi", "pods": 40})],
            [
                (
                    "jupyterhub_hubs[astro]: hub astro: profile small memory limit 4Gi exceeds the "
                    "namespace quota 2Gi"
                )
            ],
        ),
        (
            [],
            [
                (
                    "jupyterhub_hubs is []; with jupyterhub_backend kubernetes list at least "
                    "one hub (name, namespace, node_port, quota, limitrange, profiles; "
                    "docs/inventory.md)"
                )
            ],
        ),
    ],
)
def test_broken_hubs_are_reported(hubs: list[Any], expected: list[str]) -> None:
    assert im.check_jupyterhub_hubs(model(site={"jupyterhub_hubs": hubs})) == expected


def test_quotas_together_must_fit_the_workers() -> None:
    big = hub(quota={"cpu": "100", "memory": "256Gi", "pods": 40})
    problems = im.check_jupyterhub_hubs(model(site={"jupyterhub_hubs": [big, SOLAR]}))
    assert problems == [
        "jupyterhub_hubs: the quotas ask for 164 cores of cpu together but the kube_node workers "
        "declare 128 cores (kube_node_allocatable); lower the hubs' quota or add workers"
    ]
    huge = hub(quota={"cpu": "8", "memory": "600Gi", "pods": 40})
    assert im.check_jupyterhub_hubs(model(site={"jupyterhub_hubs": [huge, SOLAR]})) == [
        "jupyterhub_hubs: the quotas ask for 856Gi of memory together but the kube_node workers "
        "declare 640Gi (kube_node_allocatable); lower the hubs' quota or add workers"
    ]


def test_every_worker_declares_what_it_offers() -> None:
    problems = im.check_jupyterhub_hubs(model(hosts={"w2": {}}))
    assert problems == [
        "w2: kube_node_allocatable is null; set what this worker offers to pods, e.g. "
        "{cpu: '60', memory: 480Gi} (capacity less system reservations)"
    ]


def test_kubernetes_backend_needs_workers() -> None:
    problems = im.check_jupyterhub_hubs(model(groups={"kube_node": []}))
    assert problems == [
        "group kube_node is empty; the hubs on Kubernetes (jupyterhub_hubs) need the workers "
        "that run the users' pods (or list no hubs and use jupyterhub_backend: systemd)"
    ]


def test_a_hub_outside_the_kubernetes_layers_user_namespaces_is_refused() -> None:
    site = {"kubernetes_user_namespaces": ["hub-astro"]}
    assert im.check_jupyterhub_hubs(model(site=site)) == [
        "jupyterhub_hubs[solar]: namespace 'hub-solar' is not in kubernetes_user_namespaces "
        "['hub-astro']; the hub deploys into a namespace the kubernetes layer makes (Pod "
        "Security, default deny): add it there, or leave kubernetes_user_namespaces to its "
        "default (every hub's namespace)"
    ]
    both = {"kubernetes_user_namespaces": ["hub-astro", "hub-solar", "dask-shared"]}
    assert im.check_jupyterhub_hubs(model(site=both)) == []


def test_the_node_keeping_the_hubs_databases_must_be_a_kubernetes_node() -> None:
    """Their local PersistentVolumes and their backups are there: a typo would leave every hub
    pod Pending and nothing backed up."""
    assert im.check_jupyterhub_hubs(model(site={"jupyterhub_k8s_hub_db_node": "w1"})) == []
    assert im.check_jupyterhub_hubs(model(site={"jupyterhub_k8s_hub_db_node": ""})) == []
    assert im.check_jupyterhub_hubs(model(site={"jupyterhub_k8s_hub_db_node": "hub1"})) == [
        "jupyterhub_k8s_hub_db_node is 'hub1', which is not a Kubernetes node; the hubs' "
        "databases live on that node's local disk: name one of w1 and w2, or leave it empty "
        "with a local-volume provisioner (jupyterhub_k8s_hub_db_storage_class)"
    ]


def test_a_lone_backup_store_keeping_the_hubs_databases_is_refused() -> None:
    """The store cannot copy the Kubernetes hubs' databases off itself."""
    site = {"jupyterhub_k8s_hub_db_node": "w1", "common_backup_stores": ["w1"]}
    assert im.check_backup_stores(model(site=site)) == [
        "common_backup_stores is only w1, which has backups of its own "
        "(jupyterhub_k8s_hub_db_node): they would have no copy off the node; add a second "
        "store host (each store copies its own backups to the other)"
    ]
    site["common_backup_stores"] = ["w2"]
    assert im.check_backup_stores(model(site=site)) == []


# --- check_jupyterhub: the hub of the jupyterhub hosts (systemd backend or not). The site holds
# the jupyterhub role's defaults as the action plugin delivers them (ROLE_DEFAULTS).
HUB_SITE: dict[str, Any] = {
    "jupyterhub_backend": "systemd",
    "jupyterhub_ldap_uris": ["ldaps://core1.lab.jovial.internal"],
    "jupyterhub_ldap_base_dn": "dc=lab,dc=jovial,dc=internal",
    "jupyterhub_home_root": "/lustre/jovial/home",
    "jupyterhub_min_uid": 10000,
    "jovial_required_secrets": ["vault_jupyterhub_proxy_token"],
    "ldap_base_dn": "dc=lab,dc=jovial,dc=internal",
}
HUB_SECRETS = {"vault_jupyterhub_proxy_token": "p" * 32}


def hub_host(site: dict[str, Any] | None = None, **secrets: Any) -> im.InventoryModel:
    return im.InventoryModel(
        groups={"jupyterhub": ["hub1"]},
        hosts={},
        site={**HUB_SITE, **(site or {})},
        secrets={**HUB_SECRETS, **secrets},
    )


def test_the_hub_of_the_jupyterhub_hosts_is_valid() -> None:
    assert im.check_jupyterhub(hub_host()) == []
    assert im.check_jupyterhub in im.CHECKERS
    assert set(im.JUPYTERHUB_SETTINGS) <= set(im.ROLE_DEFAULTS["jupyterhub"])


@pytest.mark.parametrize(
    ("site", "secrets", "expected"),
    [
        pytest.param(
            {"jupyterhub_backend": "docker"},
            {},
            [
                "jupyterhub_backend 'docker' is not systemd or kubernetes; use systemd (the hub on "
                "the jupyterhub hosts) or kubernetes (the hubs of jupyterhub_hubs)"
            ],
            id="backend-unknown",
        ),
        pytest.param(
            {"jupyterhub_ldap_uris": [], "jupyterhub_ldap_base_dn": ""},
            {},
            [
                "jupyterhub_ldap_uris is []; the hub logs users in against the directory: set "
                "ldap_uris in group_vars/all/ldap.yml (the hub follows it)",
                "jupyterhub_ldap_base_dn is ''; the hub looks users up under the directory's "
                "base DN: set ldap_base_dn in group_vars/all/ldap.yml (the hub follows it)",
            ],
            id="no-directory",
        ),
        pytest.param(
            {"jupyterhub_home_root": "home", "jupyterhub_min_uid": 500},
            {},
            [
                "jupyterhub_home_root 'home' is not an absolute path; set ldap_home_root in "
                "group_vars/all/ldap.yml (the hub follows it) to where the users' homes are",
                "jupyterhub_min_uid is 500; the hub spawns no server below this uid: set a whole "
                "number of at least 1000 (the start of jovial_uid_range, 10000, is usual)",
            ],
            id="home-relative-and-uid-floor-low",
        ),
        pytest.param(
            {"jupyterhub_min_uid": "10000"},
            {},
            [],
            id="uid-floor-a-digit-string",
        ),
        pytest.param(
            {"jovial_required_secrets": []},
            {},
            [
                "jovial_required_secrets does not list vault_jupyterhub_proxy_token; the hub and "
                "its proxy authenticate each other with it: add it there and a random value of "
                "32+ characters to group_vars/all/vault.yml"
            ],
            id="proxy-token-not-required",
        ),
        pytest.param(
            {},
            {"vault_jupyterhub_proxy_token": "short", "vault_jupyterhub_verify_token": "short"},
            [
                "vault_jupyterhub_proxy_token has fewer than 32 characters (value not shown); set "
                "a random string of 32+ characters in group_vars/all/vault.yml",
                "vault_jupyterhub_verify_token has fewer than 32 characters (value not shown); set "
                "a random string of 32+ characters in group_vars/all/vault.yml",
            ],
            id="tokens-short",
        ),
    ],
)
def test_broken_hub_settings_are_reported(
    site: dict[str, Any], secrets: dict[str, Any], expected: list[str]
) -> None:
    assert im.check_jupyterhub(hub_host(site, **secrets)) == expected


def test_without_jupyterhub_hosts_only_the_backend_is_checked() -> None:
    bare = im.InventoryModel(groups={"jupyterhub": []}, hosts={}, site={"jupyterhub_ldap_uris": []})
    assert im.check_jupyterhub(bare) == []


def test_without_a_directory_the_hub_layer_is_not_configured() -> None:
    """The storage scenario's hub node is in group jupyterhub for its root access; the site has
    no LDAP, and the hub is not stood up there."""
    site = {**HUB_SITE, "jupyterhub_ldap_uris": [], "jovial_required_secrets": []}
    del site["ldap_base_dn"]
    storage_only = im.InventoryModel(groups={"jupyterhub": ["hub1"]}, hosts={}, site=site)
    assert im.check_jupyterhub(storage_only) == []


TOKEN = "vault_dask_gateway_api_token"


def test_a_hub_with_its_own_dask_gateway_is_valid_with_its_token() -> None:
    site = {"jupyterhub_hubs": [hub(dask_gateway=True), SOLAR], "jovial_required_secrets": [TOKEN]}
    checked = model(site=site)
    checked.secrets[TOKEN] = "x" * 32
    assert im.check_jupyterhub_hubs(checked) == []


@pytest.mark.parametrize(
    ("value", "required", "token", "expected"),
    [
        ("yes", [TOKEN], "x" * 32, "dask_gateway is 'yes'; set true"),
        (True, [], "x" * 32, "jovial_required_secrets does not list vault_dask_gateway_api_token"),
        (True, [TOKEN], "short", "but vault_dask_gateway_api_token has fewer than 32 characters"),
    ],
)
def test_a_hubs_dask_gateway_is_checked(value, required, token, expected) -> None:
    site = {"jupyterhub_hubs": [hub(dask_gateway=value)], "jovial_required_secrets": required}
    checked = model(site=site)
    checked.secrets[TOKEN] = token
    (problem,) = im.check_jupyterhub_hubs(checked)
    assert problem.startswith("jupyterhub_hubs[astro]: ")
    assert expected in problem
    assert "short" not in problem  # the secret's value is never shown


def test_dask_pods_above_the_hubs_limitrange_are_refused_before_anything_runs() -> None:
    site = {
        "jupyterhub_hubs": [hub(dask_gateway=True)],
        "jovial_required_secrets": [TOKEN],
        "dask_gateway_worker_memory": "64G",  # the sample hub's maximum: 32Gi
        "dask_gateway_scheduler_memory": "1G",
        "dask_gateway_worker_cores": 1,
        "dask_gateway_scheduler_cores": 1,
    }
    checked = model(site=site)
    checked.secrets[TOKEN] = "x" * 32
    assert im.check_jupyterhub_hubs(checked) == [
        "jupyterhub_hubs[astro]: dask_gateway is true but dask_gateway_worker_memory is '64G', "
        "above the hub's limitrange.max.memory '32Gi': each Dask worker is a pod of the hub's "
        "namespace and would be refused; lower dask_gateway_worker_memory or raise "
        "limitrange.max.memory"
    ]
    # Without a gateway on the hub, the same sizes are the systemd gateway's business only.
    site["jupyterhub_hubs"] = [hub()]
    assert im.check_jupyterhub_hubs(model(site=site)) == []
