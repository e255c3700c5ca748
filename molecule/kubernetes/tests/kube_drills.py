"""Drill helpers shared by the Kubernetes scenario's tests and tests/bench/bench_kubernetes.py.

Everything runs as an operator would: `podman exec` on the nodes with root's kubectl (the
cluster's admin kubeconfig, whose server is the API VIP), or HTTPS from the machine running
the scenario straight to the VIP.
"""

from __future__ import annotations

import json
import os
import shlex
import ssl
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
DEFAULTS = yaml.safe_load((REPO / "roles/kubernetes/defaults/main.yml").read_text())
VERSION = DEFAULTS["kubernetes_version"]
CONTROL_PLANE = {"mk-cp1": "10.78.7.11", "mk-cp2": "10.78.7.12"}
WORKERS = {"mk-w1": "10.78.7.21", "mk-w2": "10.78.7.22"}
VIP = "10.78.7.100"
ENDPOINT = f"https://{VIP}:8443"
KUBECTL = "/usr/local/bin/kubectl --kubeconfig /etc/kubernetes/admin.conf"
SCIENCE, TEACHING = "hub-science", "hub-teaching"


def sh(
    node: str, script: str, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run script with bash on node."""
    return subprocess.run(
        ["podman", "exec", "-i", node, "bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
    )


def running(node: str) -> bool:
    out = subprocess.run(
        ["podman", "inspect", "--format", "{{.State.Running}}", node],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() == "true"


def admin_node() -> str:
    """A running control-plane node to run kubectl on."""
    for name in CONTROL_PLANE:
        if running(name):
            return name
    raise AssertionError("no control-plane node is running")


def kubectl(
    args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    return sh(admin_node(), f"{KUBECTL} {args}", timeout=timeout, stdin=stdin)


def kubectl_json(args: str) -> Any:
    out = kubectl(f"{args} -o json")
    assert out.returncode == 0, f"kubectl {args}: {out.stderr}"
    return json.loads(out.stdout)


def apply(manifest: str) -> subprocess.CompletedProcess:
    return kubectl("apply -f -", stdin=manifest)


TEST_IMAGE = os.environ.get("JOVIAL_BASE_IMAGE") or "localhost/jovial-base:latest"


def image() -> str:
    """The image test workloads run: the node base image (Debian with python3), imported into
    the workers' containerd on first use (there is no registry to pull a toolbox from)."""
    ref = TEST_IMAGE
    for worker in WORKERS:
        if ref in sh(worker, "ctr -n k8s.io images ls -q").stdout.split():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "image.tar"
            subprocess.run(
                ["podman", "save", "--format", "docker-archive", "-o", str(archive), ref],
                check=True,
                capture_output=True,
            )
            with archive.open("rb") as stream:
                out = subprocess.run(
                    [
                        "podman",
                        "exec",
                        "-i",
                        worker,
                        "ctr",
                        "-n",
                        "k8s.io",
                        "images",
                        "import",
                        "-",
                    ],
                    stdin=stream,
                    capture_output=True,
                    check=False,
                )
        listed = sh(worker, "ctr -n k8s.io images ls -q").stdout.split()
        assert out.returncode == 0 and ref in listed, f"{worker}: importing {ref}: {out.stderr!r}"
    return ref


def workload_pod(name: str, namespace: str, labels: dict[str, str], node: str | None = None) -> str:
    """A pod that passes Pod Security "restricted" and serves HTTP on 8080 as uid 10001."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "runAsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "web",
                    "image": image(),
                    "imagePullPolicy": "Never",
                    "command": ["python3", "-m", "http.server", "8080", "--directory", "/tmp"],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
            "terminationGracePeriodSeconds": 1,
        },
    }
    if node:
        pod["spec"]["nodeName"] = node
    return yaml.safe_dump(pod)


def wait_ready(kind_name: str, namespace: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return kubectl(
        f"-n {namespace} wait --for=condition=Ready {kind_name} --timeout={timeout}s",
        timeout=timeout + 30,
    )


def pod_ip(name: str, namespace: str) -> str:
    return kubectl_json(f"-n {namespace} get pod {name}")["status"]["podIP"]


def connects(namespace: str, pod: str, address: str, port: int = 8080) -> bool:
    """Can pod open a TCP connection to address:port (3 s timeout)?"""
    code = f"import socket; socket.create_connection(({address!r}, {port}), timeout=3).close()"
    out = kubectl(f"-n {namespace} exec {pod} -- python3 -c {shlex.quote(code)}", timeout=60)
    # Only the connection may fail (refused by a policy's REJECT, or timed out), never the exec.
    refused = "ConnectionRefusedError" in out.stderr or "timed out" in out.stderr
    assert out.returncode == 0 or refused, f"kubectl exec {pod} failed: {out.stderr}"
    return out.returncode == 0


def resolves(namespace: str, pod: str, name: str) -> str:
    """The address pod's resolver gives for name ('' when it does not resolve)."""
    code = f"import socket; print(socket.gethostbyname({name!r}))"
    out = kubectl(f"-n {namespace} exec {pod} -- python3 -c {shlex.quote(code)}", timeout=60)
    return out.stdout.strip() if out.returncode == 0 else ""


def cluster_ca() -> str:
    """The cluster CA certificate (PEM), read from a control-plane node."""
    out = sh(admin_node(), "cat /etc/kubernetes/pki/ca.crt")
    assert out.returncode == 0, out.stderr
    return out.stdout


def readyz(context: ssl.SSLContext, timeout: float = 1.0) -> bool:
    """GET /readyz through the VIP, the server's certificate checked against the cluster CA."""
    try:
        with urllib.request.urlopen(f"{ENDPOINT}/readyz", context=context, timeout=timeout) as r:
            return r.status == 200 and r.read() == b"ok"
    except OSError:
        return False


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=cluster_ca())
    context.check_hostname = True
    return context


def vip_holder() -> str | None:
    for name in CONTROL_PLANE:
        if running(name) and VIP in sh(name, "ip -o -4 addr show").stdout:
            return name
    return None


def api_gap_when_killed(victim: str, context: ssl.SSLContext, window: float = 90.0) -> dict:
    """Kill victim's container while polling /readyz through the VIP every 0.1 s; return the
    longest stretch without an answer (s), the first answer after the kill and who holds the
    VIP then."""
    assert readyz(context), "the API does not answer through the VIP before the kill"
    subprocess.run(["podman", "kill", victim], check=True, capture_output=True)
    killed = time.monotonic()
    last_ok, gap, answered_at = killed, 0.0, None
    while time.monotonic() - killed < window:
        ok = readyz(context, timeout=0.5)
        now = time.monotonic()
        if ok:
            gap = max(gap, now - last_ok)
            last_ok = now
            if answered_at is None:
                answered_at = now - killed
            if now - killed > 15:  # answered steadily for a while after the move
                break
        time.sleep(0.1)
    if time.monotonic() - last_ok > gap:
        gap = time.monotonic() - last_ok
    return {"gap_s": round(gap, 2), "first_answer_s": answered_at, "holder": vip_holder()}


def restart_node(name: str, timeout: float = 300) -> None:
    """Start a killed node's container again and wait until its Kubernetes node is Ready."""
    subprocess.run(["podman", "start", name], check=True, capture_output=True)
    wait_node_ready(name, timeout)


def node_ready(name: str) -> bool:
    out = kubectl(
        f"get node {name} -o jsonpath='{{.status.conditions[?(@.type==\"Ready\")].status}}'"
    )
    return out.returncode == 0 and out.stdout.strip() == "True"


def wait_node_ready(name: str, timeout: float = 300) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node_ready(name):
            return True
        time.sleep(3)
    return False


def etcd_members() -> list[str]:
    """etcd's member IDs, asked on mk-w1 (an etcd member that is no control-plane node)."""
    out = sh("mk-w1", "bash -lc 'etcdctl -w json member list'")
    assert out.returncode == 0, out.stderr
    return sorted(hex(m["ID"]) for m in json.loads(out.stdout)["members"])
