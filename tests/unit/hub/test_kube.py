"""KubeSpawner with our configuration, driven as the hub drives it, without a cluster.

A real ``kubespawner.KubeSpawner`` is built from ``kubespawner_config`` (the same dict the
hub's config file applies); the spawn sequence is the hub's: pre_spawn_hook (our LDAP
lookup), load_user_options (profile), get_pod_manifest, modify_pod_hook. Assertions are on
the pod manifest KubeSpawner produces, as literal values.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kubernetes_asyncio.client import V1ResourceQuota, V1ResourceQuotaList, V1ResourceQuotaStatus
from kubespawner import KubeSpawner
from traitlets.config import Config

from jovial_hub import config, kube, podsecurity, schema
from jovial_hub.accounting import Ledger
from jovial_hub.identity import Identity, UserNotFound

SETTINGS = {
    "hub": "astro",
    "namespace": "hub-astro",
    "image": "registry.obs.example.org/jovial/notebook:2026.11",
    "home_claim": "lustre-home",
    "profiles": [
        {
            "name": "small",
            "display_name": "Small (1 CPU, 4 GiB)",
            "cpu": {"request": "500m", "limit": "1"},
            "memory": {"request": "2Gi", "limit": "4Gi"},
            "default": True,
        },
        {
            "name": "large",
            "display_name": "Large (4 CPU, 16 GiB)",
            "cpu": {"request": "2", "limit": "4"},
            "memory": {"request": "8Gi", "limit": "16Gi"},
        },
    ],
}


def directory(*identities: Identity):
    by_name = {i.name: i for i in identities}

    def lookup(name: str) -> Identity:
        if name not in by_name:
            raise UserNotFound(f"user {name!r} not found in LDAP")
        return by_name[name]

    return lookup


async def spawn(
    settings: kube.KubeSettings,
    lookup,
    user: str,
    user_options: dict[str, Any],
    ledger: Ledger | None = None,
    spawner: KubeSpawner | None = None,
    tamper=None,
    quota: dict[str, dict[str, str]] | None = None,
) -> tuple[KubeSpawner, dict[str, Any]]:
    """One spawn as JupyterHub's User.spawn + KubeSpawner._start run it, minus the API calls:
    the namespace's ResourceQuota is ``quota`` ({"hard": ..., "used": ...}; none by default),
    as the API server's list call returns it."""
    if spawner is None:
        hooks = kube.SpawnHooks(settings, lookup=lookup, ledger=ledger)
        c = Config()
        config.apply(c, "KubeSpawner", kube.kubespawner_config(settings, hooks))
        spawner = KubeSpawner(
            hub=CONTEXT["hub"],
            user=CONTEXT["user_class"](name=user),
            config=c,
            _mock=True,
            api_token="api-token",
            oauth_client_id="jupyterhub-user-" + user,
        )
    spawner.user_options = user_options
    asked: list[str] = []

    async def list_quotas(namespace: str) -> Any:
        asked.append(namespace)
        items = [] if quota is None else [V1ResourceQuota(status=V1ResourceQuotaStatus(**quota))]
        return V1ResourceQuotaList(items=items)

    spawner.api.list_namespaced_resource_quota = list_quotas
    try:
        await spawner.run_pre_spawn_hook()
        await spawner.load_user_options()
        if tamper:
            tamper(spawner)
        pod = await spawner.get_pod_manifest()
        pod = spawner.modify_pod_hook(spawner, pod)
        manifest = spawner.api.api_client.sanitize_for_serialization(pod)
    finally:
        await spawner.api.api_client.close()
    assert asked == [settings.namespace], "the quota is read in the hub's namespace, once"
    return spawner, manifest


JSOTO = Identity(
    name="jsoto",
    uid=10002,
    gid=10100,
    groups=(10101,),
    home="/lustre/home/jsoto",
    group_names=("survey-gal", "survey-var"),
)
CONTEXT: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _offline(hub, mock_user, jsoto, offline_kubeconfig):
    """Every test here builds KubeSpawners: no cluster, the conftest's hub and user mocks."""
    assert jsoto == JSOTO
    CONTEXT.update(hub=hub, user_class=mock_user)


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def settings() -> kube.KubeSettings:
    return kube.KubeSettings.from_dict(SETTINGS)


def test_pod_runs_as_the_ldap_identity(settings):
    _, pod = run(spawn(settings, directory(JSOTO), "jsoto", {}))
    container = pod["spec"]["containers"][0]
    assert container["securityContext"] == {
        "runAsUser": 10002,
        "runAsGroup": 10100,
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["spec"]["securityContext"] == {
        "supplementalGroups": [10101],
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert "fsGroup" not in pod["spec"]["securityContext"]
    assert pod["spec"]["automountServiceAccountToken"] is False


def test_home_is_the_users_subpath_of_the_lustre_claim(settings):
    _, pod = run(spawn(settings, directory(JSOTO), "jsoto", {}))
    container = pod["spec"]["containers"][0]
    assert pod["spec"]["volumes"] == [
        {"name": "home", "persistentVolumeClaim": {"claimName": "lustre-home"}},
        {"name": "tmp", "emptyDir": {}},
    ]
    assert container["volumeMounts"] == [
        {"name": "home", "mountPath": "/lustre/home/jsoto", "subPath": "jsoto"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    assert container["workingDir"] == "/lustre/home/jsoto"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["HOME"] == "/lustre/home/jsoto"
    assert env["USER"] == "jsoto"


GROUP_SETTINGS = {
    **SETTINGS,
    "group_claim": "lustre-groups",
    "group_root": "/lustre/obs/groups",
    "group_dirs": ["survey-var", "radio"],
}


def test_the_users_group_directories_are_mounted_and_no_others():
    """jsoto is in survey-gal (no directory) and survey-var; radio is another campaign's."""
    settings = kube.KubeSettings.from_dict(GROUP_SETTINGS)
    _, pod = run(spawn(settings, directory(JSOTO), "jsoto", {}))
    container = pod["spec"]["containers"][0]
    assert pod["spec"]["volumes"] == [
        {"name": "home", "persistentVolumeClaim": {"claimName": "lustre-home"}},
        {"name": "groups", "persistentVolumeClaim": {"claimName": "lustre-groups"}},
        {"name": "tmp", "emptyDir": {}},
    ]
    assert container["volumeMounts"] == [
        {"name": "home", "mountPath": "/lustre/home/jsoto", "subPath": "jsoto"},
        {"name": "groups", "mountPath": "/lustre/obs/groups/survey-var", "subPath": "survey-var"},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    assert podsecurity.check_object(pod) == []


def test_a_user_in_no_group_with_a_directory_gets_no_groups_volume():
    settings = kube.KubeSettings.from_dict({**GROUP_SETTINGS, "group_dirs": ["radio"]})
    _, pod = run(spawn(settings, directory(JSOTO), "jsoto", {}))
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["home", "tmp"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"group_dirs": ["../etc"]}, "are not POSIX group names"),
        ({"group_dirs": ["a/b"]}, "are not POSIX group names"),
        ({"group_claim": ""}, "group_dirs needs group_claim"),
        ({"group_root": "groups"}, "group_dirs needs group_claim"),
        ({"group_root": "/lustre/obs/../groups"}, "group_dirs needs group_claim"),
    ],
)
def test_group_directory_settings_are_checked(changes, error):
    with pytest.raises(ValueError, match=error):
        kube.KubeSettings.from_dict({**GROUP_SETTINGS, **changes})


def test_default_profile_resources(settings):
    _, pod = run(spawn(settings, directory(JSOTO), "jsoto", {}))
    assert pod["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": 0.5, "memory": 2 * 2**30},
        "limits": {"cpu": 1.0, "memory": 4 * 2**30},
    }
    assert pod["metadata"]["labels"]["jovial.io/profile"] == "small"


def test_chosen_profile_resources_and_labels(settings):
    _, pod = run(spawn(settings, directory(JSOTO), "jsoto", {"profile": "large"}))
    assert pod["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": 2.0, "memory": 8 * 2**30},
        "limits": {"cpu": 4.0, "memory": 16 * 2**30},
    }
    labels = pod["metadata"]["labels"]
    assert {k: v for k, v in labels.items() if k.startswith("jovial.io/")} == {
        "jovial.io/hub": "astro",
        "jovial.io/profile": "large",
        "jovial.io/uid": "10002",
    }
    # KubeSpawner's own labels, which the NetworkPolicies select user pods by.
    assert labels["component"] == "singleuser-server"
    assert labels["app.kubernetes.io/component"] == "singleuser-server"
    assert labels["hub.jupyter.org/username"] == "jsoto"
    assert pod["metadata"]["name"] == "jupyter-jsoto"
    assert pod["spec"]["containers"][0]["image"] == SETTINGS["image"]


def test_manifest_passes_schema_and_restricted_profile(settings):
    _, pod = run(spawn(settings, directory(JSOTO), "jsoto", {"profile": "large"}))
    assert schema.validate(pod) == schema.KUBERNETES_VERSION
    assert podsecurity.check_object(pod) == []


def test_a_respawn_sets_values_instead_of_accumulating(settings):
    other = Identity("jsoto", 10002, 10100, (), "/lustre/home/jsoto", ("survey-gal",))
    spawner, first = run(spawn(settings, directory(JSOTO), "jsoto", {"profile": "large"}))
    configured_labels = dict(spawner.config.KubeSpawner.extra_labels)
    # Same spawner object, next start: the user left survey-var and chose the small size.
    spawner.pre_spawn_hook = kube.SpawnHooks(settings, directory(other)).pre_spawn
    _, second = run(spawn(settings, None, "jsoto", {"profile": "small"}, spawner=spawner))
    assert first["spec"]["securityContext"]["supplementalGroups"] == [10101]
    assert "supplementalGroups" not in second["spec"]["securityContext"]
    assert len(second["spec"]["volumes"]) == 2  # home and /tmp, not four
    assert len(second["spec"]["containers"][0]["volumeMounts"]) == 2
    assert second["spec"]["containers"][0]["resources"]["limits"]["cpu"] == 1.0
    # The hub's configuration itself was not mutated by the hooks.
    assert (
        dict(spawner.config.KubeSpawner.extra_labels)
        == configured_labels
        == {"jovial.io/hub": "astro"}
    )


def test_root_identity_is_refused_before_the_pod_is_created(settings):
    root = replace(JSOTO, uid=0, gid=0)
    with pytest.raises(kube.PodSecurityRefused, match=r"runAsUser: must not be 0"):
        run(spawn(settings, directory(root), "jsoto", {}))


def test_a_privileged_override_is_refused(settings):
    def make_privileged(spawner):
        spawner.privileged = True

    with pytest.raises(kube.PodSecurityRefused, match=r"securityContext.privileged"):
        run(spawn(settings, directory(JSOTO), "jsoto", {}, tamper=make_privileged))


def test_unknown_user_fails_the_spawn(settings):
    with pytest.raises(UserNotFound, match="'nobody' not found"):
        run(spawn(settings, directory(JSOTO), "nobody", {}))


def test_unknown_profile_fails_the_spawn_with_the_choices(settings):
    with pytest.raises(ValueError, match="no such profile 'huge'; choose one of small, large"):
        run(spawn(settings, directory(JSOTO), "jsoto", {"profile": "huge"}))


def test_a_server_that_fits_the_quota_starts(settings):
    room = {"hard": {"limits.memory": "64Gi", "pods": "10"}, "used": {"limits.memory": "4Gi"}}
    _, manifest = run(spawn(settings, directory(JSOTO), "jsoto", {"profile": "large"}, quota=room))
    assert manifest["spec"]["containers"][0]["resources"]["limits"]["memory"] == 16 * 2**30


def test_a_server_over_the_quota_is_refused_with_a_message_the_user_reads(settings):
    """The quota (cpu 8, memory 20Gi of limits) has 13Gi of memory and 7 pods in use: a large
    server (16Gi) would not fit, and the hub's API answers 403 with why, not 500."""
    full = {
        "hard": {"limits.cpu": "8", "limits.memory": "20Gi", "pods": "8"},
        "used": {"limits.cpu": "2", "limits.memory": "13Gi", "pods": "7"},
    }
    with pytest.raises(kube.QuotaExceeded) as refused:
        run(spawn(settings, directory(JSOTO), "jsoto", {"profile": "large"}, quota=full))
    message = (
        "The astro hub has no room for your server now (limits.memory: a Large (4 CPU, 16 GiB) "
        "server asks for 16384Mi, 13312Mi of the hub's 20480Mi is in use). Try again when "
        "others have stopped theirs, choose a smaller size, or ask the platform team for a "
        "larger quota."
    )
    assert str(refused.value) == refused.value.jupyterhub_message == message
    assert refused.value.status_code == 403
    assert refused.value.log_message % () == message


def test_quota_problems_name_each_resource_that_does_not_fit():
    small = kube.Profile.from_dict(SETTINGS["profiles"][0])
    hard = {"requests.cpu": "2", "limits.cpu": "4", "pods": "3", "requests.memory": "64Gi"}
    used = {"requests.cpu": "1800m", "limits.cpu": "3", "pods": "3"}
    assert kube.quota_problems(hard, used, small) == [
        "pods: a Small (1 CPU, 4 GiB) server asks for 1 server(s) and hub pods, "
        "3 server(s) and hub pods of the hub's 3 server(s) and hub pods is in use",
        "requests.cpu: a Small (1 CPU, 4 GiB) server asks for 0.5 CPU, 1.8 CPU of the hub's "
        "2 CPU is in use",
    ]
    assert kube.quota_problems(hard, {}, small) == []


def test_spawn_and_stop_are_recorded(settings, tmp_path: Path):
    ledger = Ledger(tmp_path / "accounting.sqlite")
    spawner, _ = run(spawn(settings, directory(JSOTO), "jsoto", {"profile": "large"}, ledger))
    run(spawner.post_stop_hook(spawner))
    (record,) = ledger.records()
    assert (record.user, record.groups, record.profile) == (
        "jsoto",
        ("survey-gal", "survey-var"),
        "large",
    )
    assert record.resources == {
        "requests": {"cpu": "2", "memory": "8Gi"},
        "limits": {"cpu": "4", "memory": "16Gi"},
    }
    assert record.stopped is not None and record.duration is not None


@pytest.mark.parametrize(
    ("subpath", "error"),
    [("../{name}", "relative path inside"), ("/{name}", "relative path inside")],
)
def test_home_subpath_cannot_leave_the_volume(subpath, error):
    settings = kube.KubeSettings.from_dict({**SETTINGS, "home_subpath": subpath})
    with pytest.raises(Exception, match=error):
        kube.home_paths(settings, JSOTO)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"profiles": []}, "profiles is empty"),
        ({"profiles": [SETTINGS["profiles"][0]] * 2}, "duplicate profile names"),
        ({"image_pull_policy": "Sometimes"}, "must be Always, IfNotPresent or Never"),
        ({"nodes": 3}, "unknown keys \\['nodes'\\]"),
        (
            {
                "profiles": [
                    {
                        "name": "bad",
                        "cpu": {"request": "2", "limit": "1"},
                        "memory": {"request": "1Gi", "limit": "1Gi"},
                    }
                ]
            },
            "cpu_request 2 must be > 0 and <= cpu_limit 1",
        ),
        (
            {
                "profiles": [
                    {
                        "name": "bad",
                        "cpu": {"request": "1", "limit": "1"},
                        "memory": {"request": "lots", "limit": "1Gi"},
                    }
                ]
            },
            "'lots' is not a Kubernetes quantity",
        ),
    ],
)
def test_bad_settings_are_refused(change, error):
    with pytest.raises(ValueError, match=error):
        kube.KubeSettings.from_dict({**SETTINGS, **change})


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", "0.5"), ("2", "2"), ("1.5", "1.5"), ("4Gi", str(4 * 2**30)), ("1G", "1000000000")],
)
def test_parse_quantity(text, value):
    from decimal import Decimal

    assert kube.parse_quantity(text) == Decimal(value)


HUB = {
    "name": "astro",
    "quota": {"cpu": "64", "memory": "256Gi", "pods": 40},
    "limitrange": {
        "default": {"cpu": "1", "memory": "4Gi"},
        "default_request": {"cpu": "500m", "memory": "2Gi"},
        "max": {"cpu": "8", "memory": "32Gi"},
    },
    "profiles": SETTINGS["profiles"],
}


def test_hub_sizes_consistent():
    assert kube.hub_problems(HUB) == []


def test_the_quota_may_let_servers_burst_beyond_what_they_reserve():
    """20 servers reserving 20m each and bursting to half a core: 2 cores reserved, 12 cores
    of limits (the lab's science hub)."""
    tiny = {"name": "tiny", "display_name": "Tiny"}
    tiny |= {
        "cpu": {"request": "20m", "limit": "4"},
        "memory": {"request": "128Mi", "limit": "1Gi"},
    }
    hub = {**HUB, "profiles": [tiny]}
    hub["quota"] = {"cpu": "2", "memory": "3Gi", "pods": 24, "limits": {"cpu": "12"}}
    assert kube.hub_problems(hub) == []
    # Without limits the quota's cpu is also the ceiling of a profile's limit.
    del hub["quota"]["limits"]
    assert kube.hub_problems(hub) == [
        "hub astro: profile tiny cpu limit 4 exceeds the namespace quota 2"
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"profiles": [{**SETTINGS["profiles"][1], "cpu": {"request": "2", "limit": "16"}}]},
            "hub astro: profile large cpu limit 16 exceeds limitrange.max.cpu 8",
        ),
        (
            {"quota": {"cpu": "64", "memory": "8Gi", "pods": 40}},
            "hub astro: profile large memory limit 16Gi exceeds the namespace quota 8Gi",
        ),
        (
            {"limitrange": {**HUB["limitrange"], "default": {"cpu": "10", "memory": "4Gi"}}},
            "hub astro: limitrange.default.cpu 10 exceeds limitrange.max.cpu 8",
        ),
        (
            {"quota": {"cpu": "64", "memory": "256Gi", "pods": 40, "limits": {"memory": "8Gi"}}},
            "hub astro: quota.limits.memory 8Gi is below quota.memory 256Gi",
        ),
        (
            {"quota": {"cpu": "1", "memory": "256Gi", "pods": 40, "limits": {"cpu": "8"}}},
            "hub astro: profile large cpu request 2 exceeds the namespace quota 1",
        ),
        (
            {"quota": {"cpu": "64", "memory": "256Gi", "pods": 40, "limits": {"gpu": "1"}}},
            "hub astro: quota.limits is {'gpu': '1'}; use a mapping of cpu and memory",
        ),
        ({"profiles": []}, "hub astro: profiles is empty; list at least one size"),
        ({"quota": {"cpu": "64"}}, "hub astro: quota {cpu, memory, pods} and limitrange"),
        ({"cull": 1800}, "hub astro: cull is 1800; use a mapping of timeout, every, max_age"),
        ({"cull": {"timeout": 1800, "idle": 5}}, "hub astro: cull is {'timeout': 1800, 'idle'"),
        ({"cull": {"timeout": "30m"}}, "hub astro: cull.timeout is '30m'; use whole seconds >= 1"),
        ({"cull": {"every": 0}}, "hub astro: cull.every is 0; use whole seconds >= 1"),
        ({"cull": {"max_age": -1}}, "hub astro: cull.max_age is -1; use whole seconds >= 0"),
        (
            {"cull": {"timeout": 60, "every": 600}},
            "hub astro: cull.every 600 is longer than cull.timeout 60",
        ),
    ],
)
def test_hub_size_problems(change, problem):
    assert problem in "\n".join(kube.hub_problems({**HUB, **change}))
