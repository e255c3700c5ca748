"""The Kubernetes layer as operators and users rely on it: a kubeadm HA control plane on the
external etcd behind the API VIP, workers, DNS, NetworkPolicy and Pod Security in the users'
namespaces, and the drills (the VIP's node killed, a worker lost, a control-plane node wiped
and recovered with one playbook run). Tests run in file order; each drill leaves the cluster
whole for the next."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from jovial_fixtures import run_playbook, wait_for
from kube_drills import (
    CONTROL_PLANE,
    SCIENCE,
    TEACHING,
    VERSION,
    WORKERS,
    api_gap_when_killed,
    apply,
    connects,
    etcd_members,
    image,
    kubectl,
    kubectl_json,
    node_ready,
    pod_ip,
    readyz,
    resolves,
    restart_node,
    sh,
    tls_context,
    vip_holder,
    wait_node_ready,
    wait_ready,
    workload_pod,
)


def test_every_node_joined_ready_at_the_pinned_version():
    nodes = kubectl_json("get nodes")["items"]
    seen = {n["metadata"]["name"]: n for n in nodes}
    assert sorted(seen) == sorted([*CONTROL_PLANE, *WORKERS])
    for name, item in seen.items():
        ready = next(c for c in item["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", f"{name}: {ready}"
        assert item["status"]["nodeInfo"]["kubeletVersion"] == VERSION
        assert item["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    # The control plane does not run users' pods.
    for name in CONTROL_PLANE:
        taints = seen[name]["spec"].get("taints", [])
        assert any(t["key"] == "node-role.kubernetes.io/control-plane" for t in taints), name


def test_api_answers_through_the_vip_with_the_cluster_ca():
    context = tls_context()
    assert readyz(context)
    # kubectl's admin kubeconfig points at the VIP, not at one node.
    server = kubectl("config view -o jsonpath='{.clusters[0].cluster.server}'").stdout
    assert server == "https://10.78.7.100:8443"
    version = json.loads(kubectl("version -o json").stdout)["serverVersion"]["gitVersion"]
    assert version == VERSION


def test_control_plane_stores_its_state_in_the_external_etcd_over_tls():
    for name in CONTROL_PLANE:
        manifest = sh(name, "cat /etc/kubernetes/manifests/kube-apiserver.yaml").stdout
        assert (
            "--etcd-servers=https://10.78.7.11:2379,https://10.78.7.12:2379,https://10.78.7.21:2379"
            in manifest
        )
        assert sh(name, "test -e /etc/kubernetes/manifests/etcd.yaml").returncode != 0
    keys = sh("mk-w1", "bash -lc 'etcdctl get /registry/namespaces/kube-system --keys-only'")
    assert keys.stdout.strip() == "/registry/namespaces/kube-system"


def test_cluster_dns_and_system_pods_run():
    pods = kubectl_json("-n kube-system get pods")["items"]
    by_app: dict[str, list[str]] = {}
    for pod in pods:
        app = pod["metadata"].get("labels", {}).get("k8s-app") or pod["metadata"]["name"]
        by_app.setdefault(app, []).append(pod["status"]["phase"])
    assert by_app["kube-dns"] == ["Running", "Running"], by_app
    assert sorted(by_app["kube-router"]) == ["Running"] * 4, by_app
    assert sorted(by_app["kube-proxy"]) == ["Running"] * 4, by_app


def test_users_namespaces_enforce_pod_security_restricted():
    for ns in (SCIENCE, TEACHING):
        labels = kubectl_json(f"get namespace {ns}")["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    privileged = workload_pod("privileged", SCIENCE, {"app": "bad"}).replace(
        "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true\n      privileged: true"
    )
    out = apply(privileged)
    assert out.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in out.stderr
    assert "privileged" in out.stderr
    assert kubectl(f"-n {SCIENCE} get pod privileged").returncode != 0


@pytest.fixture(scope="module")
def policy_pods():
    """web in hub-science (on mk-w1), a client and a stranger in hub-teaching (on mk-w2)."""
    assert apply(workload_pod("web", SCIENCE, {"app": "web"}, node="mk-w1")).returncode == 0
    assert apply(workload_pod("client", TEACHING, {"app": "client"}, node="mk-w2")).returncode == 0
    assert apply(workload_pod("stranger", TEACHING, {"app": "other"}, node="mk-w2")).returncode == 0
    for ns, pod in ((SCIENCE, "web"), (TEACHING, "client"), (TEACHING, "stranger")):
        out = wait_ready(f"pod/{pod}", ns)
        assert out.returncode == 0, out.stderr
    yield {"web": pod_ip("web", SCIENCE)}
    for ns in (SCIENCE, TEACHING):
        kubectl(f"-n {ns} delete pod --all --grace-period=1 --wait=false")
        kubectl(f"-n {ns} delete networkpolicy allow-teaching-client --ignore-not-found")


def test_network_policy_denies_across_users_namespaces_and_dns_still_resolves(policy_pods):
    assert not connects(TEACHING, "client", policy_pods["web"])
    assert resolves(TEACHING, "client", "kubernetes.default.svc.cluster.local") == "10.96.0.1"
    assert resolves(SCIENCE, "web", "kube-dns.kube-system.svc.cluster.local") == "10.96.0.10"


def test_an_explicit_allow_opens_exactly_that_path(policy_pods):
    allow = f"""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: allow-teaching-client, namespace: {SCIENCE}}}
spec:
  podSelector: {{matchLabels: {{app: web}}}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {TEACHING}}}}}
          podSelector: {{matchLabels: {{app: client}}}}
      ports: [{{protocol: TCP, port: 8080}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: allow-teaching-client, namespace: {TEACHING}}}
spec:
  podSelector: {{matchLabels: {{app: client}}}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {SCIENCE}}}}}
          podSelector: {{matchLabels: {{app: web}}}}
      ports: [{{protocol: TCP, port: 8080}}]
"""
    assert apply(allow).returncode == 0
    assert wait_for(lambda: connects(TEACHING, "client", policy_pods["web"]), timeout=30)
    # Only that path: another pod of the same namespace, and another port, stay closed.
    assert not connects(TEACHING, "stranger", policy_pods["web"])
    assert not connects(TEACHING, "client", policy_pods["web"], port=8081)


def test_drill_a_lost_workers_pods_come_back_on_the_other_worker():
    kubectl("create namespace jovial-drill")
    deployment = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: jovial-drill}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      # Evict from a lost node after 10 s instead of the default 300 s.
      tolerations:
        - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute,
           tolerationSeconds: 10}
        - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute,
           tolerationSeconds: 10}
      topologySpreadConstraints:
        # Spread over the workers; a lost (tainted) worker is no longer a place to spread to.
        - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule,
           nodeTaintsPolicy: Honor, labelSelector: {matchLabels: {app: echo}}}
      securityContext:
        {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
      terminationGracePeriodSeconds: 1
      containers:
        - name: echo
          image: IMAGE
          imagePullPolicy: Never
          command: [python3, -m, http.server, "8080", --directory, /tmp]
          securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"""
    assert apply(deployment.replace("IMAGE", image())).returncode == 0
    out = kubectl("-n jovial-drill rollout status deployment/echo --timeout=180s", timeout=200)
    assert out.returncode == 0, out.stderr

    def placement() -> dict[str, str]:
        pods = kubectl_json("-n jovial-drill get pods -l app=echo")["items"]
        return {
            p["metadata"]["name"]: p["spec"].get("nodeName", "")
            for p in pods
            if p["status"]["phase"] == "Running" and not p["metadata"].get("deletionTimestamp")
        }

    assert sorted(placement().values()) == ["mk-w1", "mk-w2"]
    subprocess.run(["podman", "kill", "mk-w2"], check=True, capture_output=True)
    lost = time.monotonic()
    try:
        moved = wait_for(lambda: sorted(placement().values()) == ["mk-w1", "mk-w1"], timeout=240)
        print(
            f"\nworker lost: both replicas Running on mk-w1 after {time.monotonic() - lost:.0f} s"
        )
        assert moved, f"replicas after the loss of mk-w2: {placement()}"
        assert not node_ready("mk-w2")
    finally:
        restart_node("mk-w2")
    kubectl("delete namespace jovial-drill --wait=false")


def test_drill_the_vip_holders_control_plane_node_killed_the_api_keeps_answering():
    context = tls_context()
    holder = vip_holder()
    assert holder in CONTROL_PLANE
    before = etcd_members()
    try:
        result = api_gap_when_killed(holder, context)
        print(f"\nAPI through the VIP, {holder} killed: {result}")
        assert result["first_answer_s"] is not None, "the API never answered again"
        survivor = next(n for n in CONTROL_PLANE if n != holder)
        assert result["holder"] == survivor
        # Writes go on: the cluster still stores new objects with one control plane left.
        assert kubectl("create configmap vip-drill --from-literal=ok=1 -n default").returncode == 0
    finally:
        restart_node(holder)
    kubectl("delete configmap vip-drill -n default --ignore-not-found")
    assert etcd_members() == before
    assert wait_for(lambda: readyz(context), timeout=60)


def test_drill_a_wiped_control_plane_node_is_back_after_one_playbook_run():
    victim = "mk-cp2"
    before = etcd_members()
    # Kubernetes' state lost; the etcd member beside it keeps its data (a plain kubeadm reset
    # would empty /var/lib/etcd too: its remove-etcd-member phase).
    wipe = (
        "kubeadm reset --force --skip-phases=remove-etcd-member >/dev/null 2>&1; "
        "rm -rf /etc/kubernetes /var/lib/kubelet /etc/cni/net.d; "
        "systemctl stop kubelet"
    )
    assert sh(victim, wipe).returncode == 0
    assert sh(victim, "test -e /etc/kubernetes/admin.conf").returncode != 0
    started = time.monotonic()
    out = run_playbook("playbooks/recover-kube-node.yml", "--limit", victim, timeout=900)
    took = time.monotonic() - started
    print(f"\nrecover-kube-node.yml -l {victim}: rc {out.returncode} in {took:.0f} s")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert wait_node_ready(victim, 120)
    # Its own kube-apiserver answers again, and etcd was not touched.
    code = sh(victim, "curl -sk https://127.0.0.1:6443/readyz").stdout
    assert code == "ok"
    assert etcd_members() == before
    # The etcd member on the node still has its data on disk: it starts again and answers.
    assert sh(victim, "systemctl restart etcd").returncode == 0
    health = "bash -lc 'ETCDCTL_ENDPOINTS=${ETCDCTL_ENDPOINTS%%,*} etcdctl endpoint health'"
    assert wait_for(lambda: sh(victim, health).returncode == 0, timeout=60), sh(
        victim, "journalctl -u etcd --no-pager -n 20"
    ).stdout
    # A second run changes nothing.
    again = run_playbook("playbooks/recover-kube-node.yml", "--limit", victim, timeout=900)
    assert again.returncode == 0, again.stdout[-3000:]
    assert "changed=0" in again.stdout.split("PLAY RECAP")[-1].split(victim)[1].split("\n")[0]


def test_recovery_refuses_when_the_node_is_the_last_control_plane_holding_the_cluster():
    # Stop mk-cp2's kube-apiserver: recovering mk-cp1 now would leave no healthy control plane.
    assert sh("mk-cp2", "mv /etc/kubernetes/manifests/kube-apiserver.yaml /root/").returncode == 0
    try:
        refused = run_playbook("playbooks/recover-kube-node.yml", "--limit", "mk-cp1")
        text = refused.stdout + refused.stderr
        assert refused.returncode != 0
        assert "no other control-plane node answers" in text
        assert sh("mk-cp1", "test -e /etc/kubernetes/admin.conf").returncode == 0
    finally:
        sh("mk-cp2", "mv /root/kube-apiserver.yaml /etc/kubernetes/manifests/")
    assert wait_for(
        lambda: sh("mk-cp2", "curl -sk https://127.0.0.1:6443/readyz").stdout == "ok", 120
    )


def _apiserver_cert_serial(name: str) -> str:
    return sh(name, "openssl x509 -noout -serial -in /etc/kubernetes/pki/apiserver.crt").stdout


def test_certificates_are_reported_and_only_renewed_when_due():
    out = run_playbook("playbooks/kubernetes-certs.yml")
    assert out.returncode == 0, out.stdout[-3000:]
    assert "renewing: nothing" in out.stdout
    assert "apiserver " in out.stdout and "etcd client " in out.stdout
    recap = out.stdout.split("PLAY RECAP")[-1]
    for line in recap.splitlines():
        if line.split(":")[0].strip() in CONTROL_PLANE:
            assert "changed=0" in line, line


def test_forced_renewal_rolls_one_control_plane_node_at_a_time_and_the_api_keeps_answering():
    before = {n: _apiserver_cert_serial(n) for n in CONTROL_PLANE}
    context = tls_context()
    out = run_playbook("playbooks/kubernetes-certs.yml", "-e", "kubernetes_cert_renew_days=3650")
    assert out.returncode == 0, out.stdout[-3000:]
    assert readyz(context)
    for name in CONTROL_PLANE:
        assert _apiserver_cert_serial(name) != before[name], name
        assert sh(name, "curl -sk https://127.0.0.1:6443/readyz").stdout == "ok"
