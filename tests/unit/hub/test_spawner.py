"""A pod the namespace's quota refuses reaches the user as the quota message (403), and any
other API error stays an error (jovial_hub.spawner)."""

from __future__ import annotations

import asyncio
import json

import pytest
from kubernetes_asyncio.client.rest import ApiException
from traitlets.config import Config

from jovial_hub.accounting import Ledger
from jovial_hub.kube import QuotaExceeded, SpawnHooks
from jovial_hub.spawner import JovialKubeSpawner, quota_refusal

# What kube-apiserver 1.34 answers when the ResourceQuota admission refuses a pod.
REFUSED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": 'pods "jupyter-bench03" is forbidden: exceeded quota: jupyterhub-quota, '
    "requested: limits.cpu=500m, used: limits.cpu=1750m, limited: limits.cpu=2",
    "reason": "Forbidden",
    "details": {"name": "jupyter-bench03", "kind": "pods"},
    "code": 403,
}


def api_error(status: int, body: dict) -> ApiException:
    exc = ApiException(status=status, reason="Forbidden" if status == 403 else "Error")
    exc.body = json.dumps(body)
    return exc


def test_the_quota_refusal_is_read_from_the_api_servers_answer():
    assert quota_refusal(api_error(403, REFUSED)) == (
        "exceeded quota jupyterhub-quota, requested: limits.cpu=500m, used: limits.cpu=1750m, "
        "limited: limits.cpu=2"
    )
    rbac = dict(REFUSED, message='pods is forbidden: User "system:serviceaccount:x:hub" cannot')
    assert quota_refusal(api_error(403, rbac)) is None
    assert quota_refusal(api_error(500, REFUSED)) is None


def spawn_with(api_error_raised, hub, mock_user, offline_kubeconfig):
    c = Config()
    c.KubeSpawner.namespace = "hub-science"
    c.KubeSpawner.extra_labels = {"jovial.io/hub": "science"}

    async def attempt():
        spawner = JovialKubeSpawner(
            hub=hub, user=mock_user(name="bench03"), config=c, _mock=True, api_token="t",
            oauth_client_id="c",
        )  # fmt: skip

        async def create(namespace, pod):
            raise api_error_raised

        spawner.api.create_namespaced_pod = create
        try:
            pod = await spawner.get_pod_manifest()
            return await spawner._make_create_pod_request(pod, 3)
        finally:
            await spawner.api.api_client.close()

    return asyncio.run(attempt())


def test_a_pod_over_the_quota_is_refused_with_the_quota_message(hub, mock_user, offline_kubeconfig):
    with pytest.raises(QuotaExceeded) as refused:
        spawn_with(api_error(403, REFUSED), hub, mock_user, offline_kubeconfig)
    assert refused.value.status_code == 403
    message = refused.value.jupyterhub_message
    assert message.startswith("The science hub has no room for your server now (exceeded quota")
    assert "used: limits.cpu=1750m, limited: limits.cpu=2" in message
    assert "ask the platform team for a larger quota" in message


def test_another_api_error_stays_an_error(hub, mock_user, offline_kubeconfig):
    with pytest.raises(ApiException) as failed:
        spawn_with(
            api_error(500, {"message": "etcdserver: request timed out"}),
            hub,
            mock_user,
            offline_kubeconfig,
        )
    assert failed.value.status == 500


def test_a_pod_made_is_accounted_and_a_refused_one_is_not(
    hub, mock_user, offline_kubeconfig, tmp_path
):
    """The pre-spawn hook records a start before the pod exists; the post-stop hook closes it
    when the pod was created, and discards it when the quota admission refused the pod."""
    ledger = Ledger(tmp_path / "accounting.sqlite")
    # The post-stop hook uses only the ledger (no settings, no directory lookup).
    hooks = SpawnHooks(settings=None, lookup=lambda name: None, ledger=ledger)  # type: ignore[arg-type]

    def attempt(user: str, refuse: bool) -> None:
        c = Config()
        c.KubeSpawner.namespace = "hub-science"
        c.KubeSpawner.extra_labels = {"jovial.io/hub": "science"}

        async def run():
            spawner = JovialKubeSpawner(
                hub=hub, user=mock_user(name=user), config=c, _mock=True, api_token="t",
                oauth_client_id="c",
            )  # fmt: skip

            async def create(namespace, pod):
                if refuse:
                    raise api_error(403, REFUSED)
                return pod

            spawner.api.create_namespaced_pod = create
            spawner.pod_created = False  # what start() sets
            ledger.start(user=user, profile="small")  # what the pre-spawn hook records
            try:
                await spawner._make_create_pod_request(await spawner.get_pod_manifest(), 3)
            except QuotaExceeded:
                pass
            finally:
                await hooks.post_stop(spawner)
                await spawner.api.api_client.close()

        asyncio.run(run())

    attempt("ada", refuse=False)
    attempt("bench03", refuse=True)
    assert [(r.user, r.stopped is not None) for r in ledger.records()] == [("ada", True)]
