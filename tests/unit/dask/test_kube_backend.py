"""jovial_dask.kube: a user's Dask cluster as pods made from their running server pod."""

from __future__ import annotations

import base64
import copy

import pytest

from jovial_dask import kube
from jovial_hub import podsecurity, schema


def server_pod(name="ada", uid=10001, phase="Running", **extra):
    """A server pod as KubeSpawner makes it (uid/gid on the container, groups on the pod)."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"jupyter-{name}",
            "namespace": "hub-science",
            "labels": {"component": "singleuser-server"},
            "annotations": {"hub.jupyter.org/username": name},
        },
        "spec": {
            "securityContext": {
                "runAsNonRoot": True,
                "supplementalGroups": [10100, 20001],
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "notebook",
                    "image": "localhost/jovial-notebook:abc",
                    "imagePullPolicy": "Never",
                    "workingDir": f"/lustre/home/{name}",
                    "env": [
                        {"name": "HOME", "value": f"/lustre/home/{name}"},
                        {"name": "USER", "value": name},
                        {"name": "JUPYTERHUB_API_TOKEN", "value": "the-server-token"},
                    ],
                    "securityContext": {"runAsUser": uid, "runAsGroup": 10100},
                    "volumeMounts": [
                        {"name": "home", "mountPath": f"/lustre/home/{name}", "subPath": name},
                        {"name": "tmp", "mountPath": "/tmp"},
                        {"name": "token", "mountPath": "/var/run/secrets/x"},
                    ],
                }
            ],
            "volumes": [
                {"name": "home", "persistentVolumeClaim": {"claimName": "lustre-home"}},
                {"name": "tmp", "emptyDir": {}},
                {"name": "token", "projected": {"sources": []}},
            ],
        },
        "status": {"phase": phase},
    }
    pod.update(extra)
    return pod


def worker(server=None, **overrides):
    args = dict(
        name="dask-c1-w1",
        namespace="hub-science",
        cluster="c1",
        username="ada",
        role="worker",
        server_pod=server or server_pod(),
        command=["/opt/jovial/notebook/bin/dask", "worker", "tls://10.0.0.5:8786"],
        env={"DASK_GATEWAY_CLUSTER_NAME": "c1", "HOME": "/elsewhere"},
        secret="dask-c1",
        cores=1,
        memory=2 * 10**9,
        cpu_request="100m",
        memory_request=5 * 10**8,
    )
    args.update(overrides)
    return kube.cluster_pod(**args)


def test_a_worker_runs_as_the_user_with_their_data_and_nothing_of_the_server_else():
    pod = worker()
    spec = pod["spec"]
    (container,) = spec["containers"]
    assert spec["securityContext"]["runAsUser"] == 10001
    assert spec["securityContext"]["runAsGroup"] == 10100
    assert spec["securityContext"]["supplementalGroups"] == [10100, 20001]
    assert container["image"] == "localhost/jovial-notebook:abc"
    assert container["workingDir"] == "/lustre/home/ada"
    # The home volume travels; the server's token volume and variables do not.
    assert [v["name"] for v in spec["volumes"]] == ["home", "dask-tls", "dask-tmp"]
    assert {"name": "home", "mountPath": "/lustre/home/ada", "subPath": "ada"} in container[
        "volumeMounts"
    ]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert "JUPYTERHUB_API_TOKEN" not in env
    assert env["USER"] == "ada"
    assert env["HOME"] == "/elsewhere"  # the gateway's environment wins over the server's
    assert spec["automountServiceAccountToken"] is False
    assert spec["restartPolicy"] == "Never"
    assert pod["metadata"]["labels"][kube.CLUSTER_LABEL] == "c1"
    assert pod["metadata"]["annotations"] == {"hub.jupyter.org/username": "ada"}


def test_cluster_pods_are_valid_and_restricted():
    for role in ("scheduler", "worker"):
        pod = worker(role=role, ports=(8786, 8787))
        assert schema.validate(pod) == "1.31"
        assert podsecurity.check_object(pod) == []


def test_limits_are_the_clusters_cores_and_memory_requests_what_it_reserves():
    resources = worker(cores=2, memory=3 * 2**30)["spec"]["containers"][0]["resources"]
    assert resources == {
        "requests": {"cpu": "100m", "memory": str(5 * 10**8)},
        "limits": {"cpu": "2000m", "memory": str(3 * 2**30)},
    }


@pytest.mark.parametrize("uid", [None, 0])
def test_no_cluster_from_a_server_without_a_users_uid(uid):
    server = server_pod()
    server["spec"]["containers"][0]["securityContext"]["runAsUser"] = uid
    with pytest.raises(ValueError, match="runs as uid"):
        worker(server)


def test_the_users_running_server_is_found_by_its_annotation():
    ada = server_pod("ada")
    named = copy.deepcopy(ada)
    named["metadata"]["name"] = "jupyter-ada--big"
    named["metadata"]["annotations"]["hub.jupyter.org/servername"] = "big"
    pending = server_pod("bruno", phase="Pending")
    going = server_pod("carla")
    going["metadata"]["deletionTimestamp"] = "2026-12-07T00:00:00Z"
    pods = [named, ada, pending, going]
    assert kube.server_pod_for(pods, "ada") is ada  # the default server first
    assert kube.server_pod_for(pods, "bruno") is None
    assert kube.server_pod_for(pods, "carla") is None
    assert kube.server_pod_for(pods, "dora") is None
    # A name that differs only by escaping is another user.
    assert kube.server_pod_for([server_pod("ada-2")], "ada") is None


def test_a_clusters_policy_admits_its_own_pods_and_the_gateway_only():
    policy = kube.cluster_network_policy(
        "hub-science", "c1", {"app.kubernetes.io/component": "dask-gateway"}
    )
    assert schema.validate(policy) == "1.31"
    assert policy["spec"]["podSelector"] == {"matchLabels": {kube.CLUSTER_LABEL: "c1"}}
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {kube.CLUSTER_LABEL: "c1"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "dask-gateway"}}},
    ]
    assert "ports" not in rule  # workers listen on ports of their own choosing


def test_the_clusters_secret_carries_its_certificate_and_key():
    secret = kube.cluster_secret("dask-c1", "hub-science", "c1", b"CERT", b"KEY")
    assert schema.validate(secret) == "1.31"
    assert base64.b64decode(secret["data"]["dask.crt"]) == b"CERT"
    assert base64.b64decode(secret["data"]["dask.pem"]) == b"KEY"


@pytest.mark.parametrize(
    ("pod", "alive"),
    [
        (None, False),
        ({"status": {"phase": "Pending"}}, True),
        ({"status": {"phase": "Running"}}, True),
        ({"status": {"phase": "Failed"}}, False),
        ({"status": {"phase": "Succeeded"}}, False),
        ({"metadata": {"deletionTimestamp": "x"}, "status": {"phase": "Running"}}, False),
    ],
)
def test_pod_phase_alive(pod, alive):
    assert kube.pod_phase_alive(pod) is alive


def test_cpu_quantity():
    assert kube.cpu_quantity(1) == "1000m"
    assert kube.cpu_quantity(0.25) == "250m"


def test_the_backend_fixes_the_schedulers_ports_and_reads_tls_from_its_secret():
    pytest.importorskip("dask_gateway_server", reason="the gateway server is not installed")
    from types import SimpleNamespace

    backend = kube.JovialKubeBackend.__new__(kube.JovialKubeBackend)
    backend.cluster_heartbeat_period = 15
    cluster = SimpleNamespace(
        config=SimpleNamespace(
            scheduler_cmd=["/opt/jovial/notebook/bin/dask", "scheduler"],
            adaptive_period=3,
            idle_timeout=60,
        )
    )
    command = backend.get_scheduler_command(cluster)
    assert command[:2] == ["/opt/jovial/notebook/bin/dask", "scheduler"]
    assert command[command.index("--port") + 1] == str(kube.SCHEDULER_PORT)
    assert command[command.index("--dg-idle-timeout") + 1] == "60"
    assert backend.get_tls_paths(cluster) == (kube.TLS_CERT, kube.TLS_KEY)
