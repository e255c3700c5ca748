"""Dask Gateway's clusters as pods in a Kubernetes hub's namespace, as the user.

Upstream's Kubernetes backend (``KubeBackend`` with its controller) needs the
``daskclusters.gateway.dask.org`` CRD and Traefik as its proxy, neither of which the platform
builds. This backend keeps the gateway's own proxy (as on the systemd backend) and the
gateway's database, and makes each cluster's scheduler and workers plain pods through the
Kubernetes API, in the namespace the gateway runs in:

- **As the user, like their server.** A cluster starts only while its owner has a server
  running (it is tied to it anyway, see ``JovialPolicy``), and its pods copy that server pod's
  identity and data: uid, gid and supplemental groups, the home and group directory volumes
  and mounts, the image (so workers unpickle what the notebook sends), ``HOME`` and ``USER``.
  The hub resolved them in LDAP when it started the server; the gateway needs no directory
  access of its own.
- **Pod Security "restricted".** Non-root, no privilege escalation, every capability
  dropped, RuntimeDefault seccomp, read-only root filesystem with a private ``/tmp``, no
  service account token.
- **Only the cluster's own pods and the gateway reach it.** Each cluster gets a
  NetworkPolicy: its pods accept connections from each other and from the gateway (whose
  proxy carries the user's client and dashboard, TLS end to end with the cluster's own
  certificate), nothing else.
- **Memory and CPU are the pod's limits** (a cgroup), not only dask's ``--memory-limit``.

The pure builders below are unit-tested (tests/unit/dask/test_kube.py); the class talks to the
API server with the pod's service account (``aiohttp``, no client library).
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "CLUSTER_LABEL",
    "cluster_network_policy",
    "cluster_pod",
    "cluster_secret",
    "cpu_quantity",
    "pod_phase_alive",
    "server_pod_for",
]

PART_OF = {"app.kubernetes.io/part-of": "jovial"}
CLUSTER_LABEL = "gateway.dask.org/cluster"
ROLE_LABEL = "app.kubernetes.io/component"
USER_ANNOTATION = "hub.jupyter.org/username"
TLS_DIR = "/etc/dask-gateway-tls"
TLS_CERT = f"{TLS_DIR}/dask.crt"
TLS_KEY = f"{TLS_DIR}/dask.pem"
SCHEDULER_PORT = 8786
DASHBOARD_PORT = 8787
SCHEDULER_API_PORT = 8788
TMP_VOLUME = "dask-tmp"
TLS_VOLUME = "dask-tls"
# Volumes of the server pod that a cluster may carry: the user's data. Never the server's
# service account token or anything host-side.
CARRIED_VOLUME_KINDS = ("persistentVolumeClaim",)
# Variables of the notebook container a cluster carries (the rest is the server's own).
CARRIED_ENV = ("HOME", "USER")


def _container(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    containers = pod.get("spec", {}).get("containers") or []
    for container in containers:
        if container.get("name") == "notebook":
            return container
    if not containers:
        raise LookupError(f"pod {pod.get('metadata', {}).get('name')!r} has no container")
    return containers[0]


def server_pod_for(pods: Sequence[Mapping[str, Any]], username: str) -> Mapping[str, Any] | None:
    """The user's running server pod among ``pods`` (KubeSpawner's, annotated with the user's
    name), the default server first; None when the user has none running."""
    mine = [
        p
        for p in pods
        if (p.get("metadata", {}).get("annotations") or {}).get(USER_ANNOTATION) == username
        and p.get("status", {}).get("phase") == "Running"
        and not p.get("metadata", {}).get("deletionTimestamp")
    ]
    mine.sort(
        key=lambda p: (
            bool((p["metadata"].get("annotations") or {}).get("hub.jupyter.org/servername")),
            p["metadata"].get("name", ""),
        )
    )
    return mine[0] if mine else None


def cpu_quantity(cores: float) -> str:
    """Cores as a Kubernetes CPU quantity in millicores (``1.5`` -> ``1500m``)."""
    return f"{round(float(cores) * 1000)}m"


def pod_phase_alive(pod: Mapping[str, Any] | None) -> bool:
    """A pod that is starting or running (what the gateway's checks call pending or running)."""
    if not pod or pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    return pod.get("status", {}).get("phase", "Pending") in ("Pending", "Running")


def cluster_secret(
    name: str, namespace: str, cluster: str, cert: bytes, key: bytes
) -> dict[str, Any]:
    """The Secret with a cluster's TLS certificate and key (mounted in its pods only)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {**PART_OF, ROLE_LABEL: "dask-cluster", CLUSTER_LABEL: cluster},
        },
        "type": "Opaque",
        "data": {
            "dask.crt": base64.b64encode(cert).decode("ascii"),
            "dask.pem": base64.b64encode(key).decode("ascii"),
        },
    }


def cluster_network_policy(
    namespace: str, cluster: str, gateway_labels: Mapping[str, str]
) -> dict[str, Any]:
    """A cluster's pods accept connections from each other and from the gateway only, and may
    connect to each other (the namespace denies the rest; what else they reach out to is the
    namespace's static ``dask-clusters`` policy)."""
    own = {"podSelector": {"matchLabels": {CLUSTER_LABEL: cluster}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": f"dask-{cluster}",
            "namespace": namespace,
            "labels": {**PART_OF, ROLE_LABEL: "dask-cluster", CLUSTER_LABEL: cluster},
        },
        "spec": {
            "podSelector": {"matchLabels": {CLUSTER_LABEL: cluster}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [own, {"podSelector": {"matchLabels": dict(gateway_labels)}}]}],
            "egress": [{"to": [own]}],
        },
    }


def _valid_label(value: str) -> str:
    """``value`` made a valid label value (63 characters of [A-Za-z0-9_.-])."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", value)[:63].strip("-_.") or "x"


def cluster_pod(
    *,
    name: str,
    namespace: str,
    cluster: str,
    username: str,
    role: str,
    server_pod: Mapping[str, Any],
    command: Sequence[str],
    env: Mapping[str, str],
    secret: str,
    cores: float,
    memory: int,
    cpu_request: str,
    memory_request: int,
    ports: Sequence[int] = (),
) -> dict[str, Any]:
    """The pod of one scheduler or worker (``role``: ``scheduler`` or ``worker``) of cluster
    ``cluster``, owned by ``username``, made from the user's running ``server_pod``: the same
    identity, data volumes, image and home; restricted security; the cluster's TLS Secret;
    ``cores``/``memory`` (bytes) as its limits and the requests given."""
    container = _container(server_pod)
    spec = server_pod.get("spec", {})
    # KubeSpawner sets uid and gid on the container, supplemental groups on the pod.
    security = {
        **(spec.get("securityContext") or {}),
        **{
            k: v
            for k, v in (container.get("securityContext") or {}).items()
            if k in ("runAsUser", "runAsGroup") and v is not None
        },
    }
    uid = security.get("runAsUser")
    if not isinstance(uid, int) or uid <= 0:
        raise ValueError(
            f"the server pod of {username} ({server_pod.get('metadata', {}).get('name')}) "
            f"runs as uid {uid!r}; a Dask cluster runs only as the user's own non-root uid"
        )
    volumes = [
        v for v in spec.get("volumes") or [] if any(kind in v for kind in CARRIED_VOLUME_KINDS)
    ]
    carried = {v["name"] for v in volumes}
    mounts = [
        {k: m[k] for k in ("name", "mountPath", "subPath", "readOnly") if k in m}
        for m in container.get("volumeMounts") or []
        if m.get("name") in carried
    ]
    server_env = {
        e["name"]: e["value"]
        for e in container.get("env") or []
        if e.get("name") in CARRIED_ENV and "value" in e
    }
    pod_security = {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    for key in ("runAsGroup", "supplementalGroups", "fsGroup"):
        if security.get(key) not in (None, []):
            pod_security[key] = security[key]
    resources = {
        "requests": {"cpu": cpu_request, "memory": str(int(memory_request))},
        "limits": {"cpu": cpu_quantity(cores), "memory": str(int(memory))},
    }
    main = {
        "name": f"dask-{role}",
        "image": container["image"],
        "imagePullPolicy": container.get("imagePullPolicy", "IfNotPresent"),
        "command": list(command),
        "env": [{"name": k, "value": str(v)} for k, v in {**server_env, **env}.items()],
        "resources": resources,
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            *mounts,
            {"name": TLS_VOLUME, "mountPath": TLS_DIR, "readOnly": True},
            {"name": TMP_VOLUME, "mountPath": "/tmp"},
        ],
        "ports": [{"containerPort": int(p)} for p in ports],
    }
    if container.get("workingDir"):
        main["workingDir"] = container["workingDir"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                **PART_OF,
                ROLE_LABEL: f"dask-{role}",
                CLUSTER_LABEL: cluster,
                "gateway.dask.org/user": _valid_label(username),
            },
            "annotations": {USER_ANNOTATION: username},
        },
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": pod_security,
            "containers": [main],
            "volumes": [
                *volumes,
                {"name": TLS_VOLUME, "secret": {"secretName": secret, "defaultMode": 0o444}},
                {"name": TMP_VOLUME, "emptyDir": {}},
            ],
        },
    }


try:  # The class needs the gateway server; the builders above are tested without it.
    import json
    import ssl

    import aiohttp
    from dask_gateway_server.backends.base import PublicException
    from dask_gateway_server.backends.db_base import DBBackendBase
    from traitlets import Dict, Float, Unicode

    from .gateway import JovialPolicy
except ImportError:  # pragma: no cover - in the gateway's image they are installed
    DBBackendBase = None


if DBBackendBase is not None:
    _SA = "/var/run/secrets/kubernetes.io/serviceaccount"

    class KubeAPI:
        """The few calls the backend makes, with the pod's service account."""

        def __init__(self, namespace: str) -> None:
            self.namespace = namespace
            host = os.environ.get("KUBERNETES_SERVICE_HOST", "kubernetes.default.svc")
            port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
            if ":" in host:
                host = f"[{host}]"
            self.base = f"https://{host}:{port}"
            self.ssl = ssl.create_default_context(cafile=f"{_SA}/ca.crt")
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

        def _headers(self) -> dict[str, str]:
            with open(f"{_SA}/token", encoding="ascii") as handle:  # rotated: read each time
                token = handle.read().strip()
            return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def _path(self, kind: str, name: str = "") -> str:
            group = "/apis/networking.k8s.io/v1" if kind == "networkpolicies" else "/api/v1"
            path = f"{self.base}{group}/namespaces/{self.namespace}/{kind}"
            return f"{path}/{name}" if name else path

        async def request(self, method: str, url: str, **kwargs: Any) -> Any:
            async with self.session.request(
                method, url, headers=self._headers(), ssl=self.ssl, **kwargs
            ) as resp:
                body = await resp.text()
                if resp.status == 404:
                    return None
                if resp.status == 409 and method == "POST":
                    return json.loads(body)  # already there (a retried start)
                if resp.status >= 400:
                    raise RuntimeError(f"{method} {url}: {resp.status} {body[:500]}")
                return json.loads(body) if body else None

        async def create(self, kind: str, manifest: Mapping[str, Any]) -> Any:
            return await self.request("POST", self._path(kind), data=json.dumps(manifest))

        async def get(self, kind: str, name: str) -> Any:
            return await self.request("GET", self._path(kind, name))

        async def list(self, kind: str, selector: str) -> list[Mapping[str, Any]]:
            out = await self.request("GET", self._path(kind), params={"labelSelector": selector})
            return (out or {}).get("items", [])

        async def delete(self, kind: str, name: str) -> None:
            await self.request(
                "DELETE", self._path(kind, name), data=json.dumps({"gracePeriodSeconds": 5})
            )

        async def close(self) -> None:
            await self.session.close()

    class JovialKubeBackend(JovialPolicy, DBBackendBase):
        """Clusters as pods of the user in the gateway's namespace (see the module's
        docstring), with Jovial's per-user limit and clusters tied to the user's server."""

        namespace = Unicode(
            help="The namespace of the gateway and its clusters (default: the pod's own).",
            config=True,
        )
        gateway_labels = Dict(
            help="The gateway pod's labels: each cluster's NetworkPolicy admits it.",
            config=True,
        )
        cpu_request = Unicode(
            "100m",
            help="CPU each scheduler and worker pod reserves (its limit: cores).",
            config=True,
        )
        memory_request_ratio = Float(
            0.25,
            help="Share of a pod's memory limit it reserves (the limit: the cluster's "
            "worker_memory or scheduler_memory).",
            config=True,
        )

        supports_bulk_shutdown = False

        def _ns(self) -> str:
            if self.namespace:
                return self.namespace
            with open(f"{_SA}/namespace", encoding="ascii") as handle:
                return handle.read().strip()

        async def do_setup(self) -> None:
            self.kube = KubeAPI(self._ns())
            await super().do_setup()

        async def do_cleanup(self) -> None:
            await super().do_cleanup()
            await self.kube.close()

        def get_tls_paths(self, cluster: Any) -> tuple[str, str]:
            return TLS_CERT, TLS_KEY

        def get_scheduler_command(self, cluster: Any) -> list[str]:
            # Fixed ports inside the pod (its own network namespace), so that they can be
            # named in policies; the scheduler reports its pod address to the gateway.
            return [
                *cluster.config.scheduler_cmd,
                "--protocol", "tls",
                "--port", str(SCHEDULER_PORT),
                "--host", "0.0.0.0",
                "--dashboard-address", f"0.0.0.0:{DASHBOARD_PORT}",
                "--preload", "dask_gateway.scheduler_preload",
                "--dg-api-address", f"0.0.0.0:{SCHEDULER_API_PORT}",
                "--dg-heartbeat-period", str(self.cluster_heartbeat_period),
                "--dg-adaptive-period", str(cluster.config.adaptive_period),
                "--dg-idle-timeout", str(cluster.config.idle_timeout),
            ]  # fmt: skip

        def _names(self, cluster: Any) -> dict[str, str]:
            return {"secret": f"dask-{cluster.name}", "scheduler": f"dask-{cluster.name}-scheduler"}

        async def _server_pod(self, username: str) -> Mapping[str, Any]:
            pods = await self.kube.list("pods", "component=singleuser-server")
            pod = server_pod_for(pods, username)
            if pod is None:
                raise PublicException(
                    f"{username} has no notebook server running: a Dask cluster runs as you, "
                    "beside your server, and stops with it. Start your server, then ask again."
                )
            return pod

        def _pod(
            self,
            cluster: Any,
            role: str,
            name: str,
            server: Any,
            command: Any,
            env: Any,
            cores: float,
            memory: int,
            ports: Sequence[int],
        ) -> dict[str, Any]:
            return cluster_pod(
                name=name,
                namespace=self.kube.namespace,
                cluster=cluster.name,
                username=cluster.username,
                role=role,
                server_pod=server,
                command=command,
                env=env,
                secret=self._names(cluster)["secret"],
                cores=cores,
                memory=memory,
                cpu_request=self.cpu_request,
                memory_request=int(memory * self.memory_request_ratio),
                ports=ports,
            )

        async def start_cluster(self, user: Any, cluster_options: Any) -> Any:
            await self._server_pod(user.name)  # refuse now, with the reason, not in a loop
            return await super().start_cluster(user, cluster_options)

        async def do_start_cluster(self, cluster: Any) -> Any:
            names = self._names(cluster)
            server = await self._server_pod(cluster.username)
            await self.kube.create(
                "secrets",
                cluster_secret(
                    names["secret"],
                    self.kube.namespace,
                    cluster.name,
                    cluster.tls_cert,
                    cluster.tls_key,
                ),
            )
            await self.kube.create(
                "networkpolicies",
                cluster_network_policy(self.kube.namespace, cluster.name, self.gateway_labels),
            )
            yield {"secret": names["secret"]}
            pod = self._pod(
                cluster,
                "scheduler",
                names["scheduler"],
                server,
                self.get_scheduler_command(cluster),
                self.get_scheduler_env(cluster),
                cluster.config.scheduler_cores,
                cluster.config.scheduler_memory,
                (SCHEDULER_PORT, DASHBOARD_PORT, SCHEDULER_API_PORT),
            )
            # The worker pods copy the server pod again at their start: keep it for them.
            await self.kube.create("pods", pod)
            yield {"secret": names["secret"], "pod": names["scheduler"], "server": server}

        async def do_check_clusters(self, clusters: Any) -> list[bool]:
            out = []
            for cluster in clusters:
                name = cluster.state.get("pod")
                out.append(bool(name) and pod_phase_alive(await self.kube.get("pods", name)))
            return out

        async def do_stop_cluster(self, cluster: Any) -> None:
            for pod in await self.kube.list("pods", f"{CLUSTER_LABEL}={cluster.name}"):
                await self.kube.delete("pods", pod["metadata"]["name"])
            await self.kube.delete("networkpolicies", f"dask-{cluster.name}")
            await self.kube.delete("secrets", self._names(cluster)["secret"])

        async def do_start_worker(self, worker: Any) -> Any:
            cluster = worker.cluster
            server = cluster.state.get("server") or await self._server_pod(cluster.username)
            name = f"dask-{cluster.name}-{worker.name}"
            pod = self._pod(
                cluster,
                "worker",
                name,
                server,
                self.get_worker_command(cluster, worker.name),
                self.get_worker_env(cluster),
                cluster.config.worker_cores,
                cluster.config.worker_memory,
                (),
            )
            await self.kube.create("pods", pod)
            yield {"pod": name}

        async def do_check_workers(self, workers: Any) -> list[bool]:
            return [
                pod_phase_alive(await self.kube.get("pods", w.state.get("pod", "")))
                if w.state.get("pod")
                else False
                for w in workers
            ]

        async def do_stop_worker(self, worker: Any) -> None:
            if worker.state.get("pod"):
                await self.kube.delete("pods", worker.state["pod"])

    __all__ += ["JovialKubeBackend", "KubeAPI"]
