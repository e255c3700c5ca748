"""check_dask_gateway (plugins/module_utils/inventory_dask.py): where the gateway may run, its
service token, and its limits. Each case changes the valid model one way and states the
exact problem reported."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.module_utils import inventory_model as im

TOKEN = "t" * 48


def model(
    groups: dict | None = None,
    site: dict | None = None,
    secrets: dict | None = None,
    unresolved: dict | None = None,
) -> im.InventoryModel:
    base_groups = {"jupyterhub": ["hub1"], "dask_gateway": ["hub1"]}
    base_site: dict[str, Any] = {
        "jupyterhub_backend": "systemd",
        "jovial_required_secrets": ["vault_dask_gateway_api_token"],
        "dask_gateway_cluster_max_workers": 4,
        "dask_gateway_clusters_per_user": 2,
    }
    return im.InventoryModel(
        groups={**base_groups, **(groups or {})},
        hosts={"hub1": {"jovial_address": "10.0.0.5"}, "hub2": {"jovial_address": "10.0.0.6"}},
        site={**base_site, **(site or {})},
        secrets={"vault_dask_gateway_api_token": TOKEN, **(secrets or {})},
        unresolved=unresolved or {},
    )


def test_valid_model_has_no_problem():
    assert im.check_dask_gateway(model()) == []


def test_no_gateway_no_checks():
    assert (
        im.check_dask_gateway(
            model(groups={"dask_gateway": []}, site={"jupyterhub_backend": "kubernetes"})
        )
        == []
    )


def test_a_gateway_outside_the_hub_nodes_is_refused():
    assert im.check_dask_gateway(model(groups={"dask_gateway": ["hub2"]})) == [
        "hub2 is in group dask_gateway but not in group jupyterhub; the gateway runs users' "
        "clusters from the users' environment of a hub node and is reached through that hub: "
        "add hub2 to jupyterhub, or remove it from dask_gateway"
    ]


def test_the_systemd_gateway_group_with_the_kubernetes_backend_points_to_the_hubs_own():
    (problem,) = im.check_dask_gateway(model(site={"jupyterhub_backend": "kubernetes"}))
    assert problem.startswith("group dask_gateway has hub1 but jupyterhub_backend is 'kubernetes'")
    assert "set dask_gateway: true on it in jupyterhub_hubs" in problem


def test_the_service_token_must_be_a_listed_secret_of_32_characters():
    (problem,) = im.check_dask_gateway(model(site={"jovial_required_secrets": []}))
    assert problem.startswith("jovial_required_secrets does not list vault_dask_gateway_api_token")
    (problem,) = im.check_dask_gateway(model(secrets={"vault_dask_gateway_api_token": "short"}))
    assert problem.startswith(
        "vault_dask_gateway_api_token has fewer than 32 characters (value not shown)"
    )
    assert "short" not in problem


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("dask_gateway_cluster_max_workers", 0),
        ("dask_gateway_clusters_per_user", -1),
        ("dask_gateway_idle_timeout", "soon"),
        ("dask_gateway_worker_cores", True),
    ],
)
def test_limits_are_whole_numbers_in_range(name, value):
    (problem,) = im.check_dask_gateway(model(site={name: value}))
    assert problem.startswith(f"{name} is ")
    assert "set a whole number of at least" in problem


def test_an_unresolved_limit_is_left_to_check_unresolved():
    assert (
        im.check_dask_gateway(
            model(
                site={"dask_gateway_idle_timeout": "{{ x }}"},
                unresolved={"dask_gateway_idle_timeout": "undefined"},
            )
        )
        == []
    )


def test_the_limits_defaults_are_the_roles():
    sizes = {"dask_gateway_worker_memory", "dask_gateway_scheduler_memory"}
    assert set(im.ROLE_DEFAULTS["dask_gateway"]) == set(im.DASK_GATEWAY_LIMITS) | sizes
    assert set(im.DASK_GATEWAY_LIMITS) | sizes <= set(im.SITE_VARIABLES)
