"""KubeSpawner for Jovial's hubs: a pod the namespace's quota refuses is a message, not an error.

The pre-spawn hook checks the ResourceQuota before the pod is made (``SpawnHooks.check_quota``),
but several users asking at once all pass that check before any of their pods counts: the API
server's quota admission then refuses the late ones, and KubeSpawner reports that as an
internal error (the user reads "500: error"). :class:`JovialKubeSpawner` turns the API
server's refusal into the same :class:`~jovial_hub.kube.QuotaExceeded` (403, with the numbers
and what to do) as the hook's, and the start the pre-spawn hook recorded for accounting is
discarded: nothing was granted.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes_asyncio.client.rest import ApiException
from kubespawner import KubeSpawner

from .kube import LABEL_PREFIX, quota_exceeded

__all__ = ["JovialKubeSpawner", "quota_refusal"]


def quota_refusal(exc: ApiException) -> str | None:
    """What the API server's quota admission said when it refused a pod (its 403 "exceeded
    quota: <quota>, requested: ..., used: ..., limited: ..."), without the pod's name; None
    for any other error."""
    if exc.status != 403:
        return None
    try:
        message = str(json.loads(exc.body or "{}").get("message", ""))
    except (ValueError, AttributeError):
        message = str(exc.body or "")
    marker = "exceeded quota: "
    if marker not in message:
        return None
    return "exceeded quota " + message.split(marker, 1)[1]


class JovialKubeSpawner(KubeSpawner):
    """KubeSpawner whose pod refused by the namespace's ResourceQuota raises QuotaExceeded.

    ``pod_created`` says whether this start made its pod: the post-stop hook discards the
    accounting record of a start whose pod never existed (``SpawnHooks.post_stop``)."""

    pod_created: bool | None = None

    def start(self) -> Any:
        # KubeSpawner.start returns the future of its _start (kept for progress events).
        self.pod_created = False
        return super().start()

    async def _make_create_pod_request(self, pod: Any, request_timeout: float) -> bool:
        try:
            created = bool(await super()._make_create_pod_request(pod, request_timeout))
            self.pod_created = self.pod_created or created
            return created
        except ApiException as exc:
            refusal = quota_refusal(exc)
            if refusal is None:
                raise
            hub = str(self.extra_labels.get(f"{LABEL_PREFIX}hub", ""))
            raise quota_exceeded(hub, [refusal]) from exc
