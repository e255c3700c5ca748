"""The hubs on Kubernetes as astronomers and operators use them: the checks shared by the lab
(tests/lab/test_hubs_kubernetes.py, `make lab-check`) and Molecule `jupyterhub`
(tests/test_hubs_kubernetes.py, in `make test`). Both sites run the same two hubs (science
and teaching, jupyterhub_hubs); each test module provides the fixture `kube_hubs` (a
KubeHubs: where the hubs are and how to reach the cluster and another client of the shared
filesystem) and imports these tests.

Everything goes through the front door's VIP over HTTPS verified against the site CA, with
real clients (cookies, XSRF, the kernel's websocket):

- an LDAP user logs in to the science hub under /science/, starts a server (a KubeSpawner pod)
  and runs code in a kernel: it runs as their LDAP uid, gid and groups, with HOME their home
  on the shared filesystem, and a file written there has their uid/gid on another client of
  the filesystem; their campaign's group directory is mounted, no other campaign's (where
  the site has campaign directories); nothing else is writable but a private /tmp;
- another user gets 403 on that server, and from their own pod cannot open a TCP connection
  to the first user's pod (NetworkPolicy);
- the hub pod deleted and back: the user's pod (same UID) and file are intact;
- the teaching hub's quota takes one small server: a second one is refused with a message the
  user can read (403, not a pod stuck Pending);
- the hub's accounting database has the start;
- the teaching hub's idle culler (its own cull setting) stops a server nobody uses, and the
  stop is accounted (where the site's teaching hub culls within minutes: Molecule);
- headless Chromium logs in to the science hub and JupyterLab renders (jovial_browser);
- Dask on the science hub (its own gateway, dask_gateway: true): from ada's kernel with nothing
  pasted, a cluster of pods runs the platform's example as her (uid, gid, groups, home), its
  products hers; scaling past the hub's limit is cut with a warning; bruno lists nothing, gets
  403 on her cluster and cannot connect to her scheduler; a new gateway pod keeps the cluster;
  an idle cluster's pods go (where the site's idle timeout is short: Molecule); a cluster a
  kernel left behind stops when her server stops.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from jovial_browser import (
    api_status,
    chromium,
    lands_in_jupyterlab,
    screenshot_on_failure,
    stop_my_server,
    submit_login,
)

from jovial_hub.client import HubClient, HubError

# The users both sites define the same way: uid, primary gid, every gid (jovial-admins and
# campaign-deep for ada).
USERS = {"ada": (10001, 10100), "bruno": (10002, 10101)}
ADA_GROUPS = [10000, 10100]


@dataclass(frozen=True)
class KubeHubs:
    urls: Mapping[str, str]  # hub name -> its URL through the front door
    ca: str  # the site CA's certificate (PEM file)
    passwords: Mapping[str, str]  # user -> LDAP password
    home_root: str  # where the users' homes are on the shared filesystem
    group_root: str | None  # campaign directories; None where the site has none
    kubectl: Callable[..., str]  # kubectl(*args) -> stdout, with an admin kubeconfig
    on_client: Callable[[str], str]  # a shell command on another client of the filesystem
    shots: Path  # where the browser's screenshots go


def login(hubs: KubeHubs, hub: str, user: str) -> HubClient:
    client = HubClient(hubs.urls[hub], hubs.ca, timeout=60)
    resp = client.login(user, hubs.passwords[user])
    assert resp.status_code == 200, resp.text[:300]
    return client


def running(client: HubClient) -> str:
    """Start (or find) the user's server, wait until ready, open it; its XSRF token."""
    assert client.start_server() in (201, 202, 400)
    assert client.wait_ready(timeout=240, interval=1), f"{client.user}'s server never got ready"
    return client.open_server()


def _stat(hubs: KubeHubs, path: str) -> list[str]:
    return hubs.on_client(f"stat -c '%u:%g %s' {path}").split()


@pytest.fixture(scope="module")
def science_ada(kube_hubs: KubeHubs) -> tuple[HubClient, str]:
    client = login(kube_hubs, "science", "ada")
    return client, running(client)


def test_code_runs_as_the_users_ldap_identity_with_the_shared_home(kube_hubs, science_ada):
    client, xsrf = science_ada
    out = client.execute(
        xsrf,
        "import os, json; print(json.dumps([os.getuid(), os.getgid(), sorted(os.getgroups()),"
        " os.environ['HOME'], os.getcwd()]));"
        "open(os.path.expanduser('~/from-kubernetes.txt'), 'w').write('M31')",
    )
    uid, gid, groups, home, cwd = json.loads(out)
    assert (uid, gid) == USERS["ada"]
    assert groups == ADA_GROUPS
    assert home == cwd == f"{kube_hubs.home_root}/ada"
    # The same file, as another client of the shared filesystem sees it.
    assert _stat(kube_hubs, f"{home}/from-kubernetes.txt") == ["10001:10100", "3"]


def test_the_users_campaign_directory_is_there_and_no_other(kube_hubs, science_ada):
    """ada is in campaign-deep (its directory made by the storage layer);
    campaign-transient's directory is bruno's campaign's, not in her pod."""
    if kube_hubs.group_root is None:
        pytest.skip("no campaign directories on this site (the storage layer makes them: lab)")
    client, xsrf = science_ada
    root = kube_hubs.group_root
    out = client.execute(
        xsrf,
        "import os, json\n"
        f"root = {root!r}\n"
        "open(root + '/campaign-deep/from-kubernetes.txt', 'w').write('NGC 253')\n"
        "print(json.dumps([sorted(os.listdir(root)),"
        " os.path.exists(root + '/campaign-transient')]))",
    )
    listed, other = json.loads(out)
    assert listed == ["campaign-deep"]
    assert other is False
    # Elsewhere the file is ada's, in the campaign's group (the directory is setgid).
    assert _stat(kube_hubs, f"{root}/campaign-deep/from-kubernetes.txt") == ["10001:10100", "7"]


def test_nothing_is_written_outside_the_home_and_tmp(science_ada):
    """The user's pod has a read-only root filesystem and a private /tmp."""
    client, xsrf = science_ada
    out = client.execute(
        xsrf,
        "import errno, tempfile\n"
        "try:\n    open('/opt/jovial/notebook/written-by-user', 'w')\n"
        "except OSError as e:\n    print(errno.errorcode[e.errno])\n"
        "with tempfile.NamedTemporaryFile(dir='/tmp') as f:\n    print('tmp ok')\n",
    )
    assert out.split() == ["EROFS", "tmp", "ok"]


def test_another_user_is_refused_and_cannot_reach_the_pod(kube_hubs, science_ada):
    bruno = login(kube_hubs, "science", "bruno")
    resp = bruno.session.get(f"{bruno.base}/user/ada/api/status", timeout=60)
    assert resp.status_code == 403
    pod_ip = kube_hubs.kubectl(
        "-n", "hub-science", "get", "pod", "jupyter-ada", "-o", "jsonpath={.status.podIP}"
    )
    xsrf = running(bruno)
    out = bruno.execute(
        xsrf,
        "import socket\ns = socket.socket(); s.settimeout(5)\n"
        f"try:\n    s.connect(('{pod_ip}', 8888)); print('connected')\n"
        "except OSError as e:\n    print('blocked', type(e).__name__)\n",
    )
    assert out.startswith("blocked"), out
    bruno.stop_server()


def test_the_hub_restarts_without_touching_the_users_server(kube_hubs, science_ada):
    kubectl = kube_hubs.kubectl
    uid_path = "jsonpath={.metadata.uid}"
    before = kubectl("-n", "hub-science", "get", "pod", "jupyter-ada", "-o", uid_path)
    kubectl(
        "-n", "hub-science", "delete", "pod", "-l", "app.kubernetes.io/component=hub", "--wait=true"
    )
    kubectl("-n", "hub-science", "rollout", "status", "deploy/hub", "--timeout=240s")
    after = kubectl("-n", "hub-science", "get", "pod", "jupyter-ada", "-o", uid_path)
    assert after == before
    client = login(kube_hubs, "science", "ada")
    model = client.server()
    assert model and model["ready"]
    client.open_server()
    assert client.read_file("from-kubernetes.txt") == "M31"


def test_the_start_is_accounted(kube_hubs, science_ada):
    rows = kube_hubs.kubectl(
        "-n",
        "hub-science",
        "exec",
        "deploy/hub",
        "--",
        "sqlite3",
        "/srv/jupyterhub/accounting.sqlite",
        "SELECT user, profile, resources FROM servers WHERE user = 'ada'",
    )
    assert "ada|small|" in rows
    assert '"limits": {"cpu": "500m", "memory": "768Mi"}' in rows


def test_a_server_over_the_quota_is_refused_with_a_readable_message(kube_hubs):
    ada = login(kube_hubs, "teaching", "ada")
    running(ada)
    bruno = login(kube_hubs, "teaching", "bruno")
    with pytest.raises(HubError) as refused:
        bruno.start_server()
    message = str(refused.value)
    assert "403" in message
    assert "The teaching hub has no room for your server now (limits.memory" in message
    pods = kube_hubs.kubectl("-n", "hub-teaching", "get", "pods", "-o", "name")
    assert "pod/jupyter-bruno" not in pods  # refused, not Pending
    ada.stop_server()
    deadline = time.monotonic() + 120
    while ada.server() and time.monotonic() < deadline:
        time.sleep(1)


def test_a_browser_logs_in_to_the_kubernetes_hub_and_jupyterlab_renders(kube_hubs):
    """Headless Chromium, trusting the site CA only, through the front door to the science
    hub under /science/: bruno logs in, lands in JupyterLab served by his pod, whose API
    refuses the session without the XSRF token, then stops his server from the hub's page."""
    hub = kube_hubs.urls["science"].rstrip("/")
    shots = kube_hubs.shots
    with (
        chromium(Path(kube_hubs.ca)) as browser,
        screenshot_on_failure(browser, shots, "science-login"),
    ):
        submit_login(browser, hub, "bruno", kube_hubs.passwords["bruno"])
        lands_in_jupyterlab(browser, hub, "bruno", shots, "science-jupyterlab")
        assert api_status(browser, hub, "bruno", with_xsrf=False) == 403
        assert api_status(browser, hub, "bruno", with_xsrf=True) == 200
        stop_my_server(browser, hub)
    # The hub stopped the server: its pod goes (after the kubelet's termination grace).
    deadline = time.monotonic() + 120
    pods = ("-n", "hub-science", "get", "pods", "-o", "name")
    while "pod/jupyter-bruno" in kube_hubs.kubectl(*pods):
        assert time.monotonic() < deadline, "bruno's pod still exists 120 s after the stop"
        time.sleep(2)


def _wait_pod_gone(hubs: KubeHubs, namespace: str, pod: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while f"pod/{pod}" in hubs.kubectl("-n", namespace, "get", "pods", "-o", "name"):
        assert time.monotonic() < deadline, f"{namespace}/{pod} still exists after {timeout} s"
        time.sleep(2)


# How long this test waits for the culler at most; a hub culling later is not tested here.
CULL_WAIT_LIMIT = 300


def test_the_idle_culler_stops_an_idle_server_and_the_stop_is_accounted(kube_hubs):
    """The teaching hub's culler (jupyterhub_hubs[].cull, else jupyterhub_cull_*) stops ada's
    server once it has been idle for the timeout: the hub forgets it, the pod goes, and the
    accounting database closes the server's row."""
    settings = kube_hubs.kubectl(
        "-n", "hub-teaching", "get", "configmap", "jupyterhub-config",
        "-o", r"jsonpath={.data.jovial-kube\.json}",
    )  # fmt: skip
    culler = json.loads(settings)["culler"]
    longest = culler["timeout"] + culler["every"]
    if longest > CULL_WAIT_LIMIT:
        pytest.skip(
            f"the teaching hub culls after {culler['timeout']} s idle (checked every "
            f"{culler['every']} s); this test waits {CULL_WAIT_LIMIT} s at most (Molecule "
            "jupyterhub's teaching hub culls after 90 s)"
        )
    _wait_pod_gone(kube_hubs, "hub-teaching", "jupyter-ada", 120)  # the quota test's server
    started = time.time() - 5
    ada = login(kube_hubs, "teaching", "ada")
    running(ada)
    # Nothing touches the server now; the hub's own API (below) is not the server's activity.
    deadline = time.monotonic() + longest + 120
    while ada.server():
        assert time.monotonic() < deadline, (
            f"ada's idle server still runs {longest + 120} s after it started (culler {culler})"
        )
        time.sleep(5)
    _wait_pod_gone(kube_hubs, "hub-teaching", "jupyter-ada", 120)
    rows = kube_hubs.kubectl(
        "-n", "hub-teaching", "exec", "deploy/hub", "--", "sqlite3",
        "/srv/jupyterhub/accounting.sqlite",
        f"SELECT stopped IS NOT NULL FROM servers WHERE user = 'ada' AND started >= {started}",
    )  # fmt: skip
    assert rows.split() == ["1"]


# --- Dask on Kubernetes: the science hub's own gateway (dask_gateway: true) ----------------


def _gateway_setting(hubs: KubeHubs, name: str) -> str:
    """One line of the science hub's gateway configuration (its ConfigMap), e.g.
    ``cluster_max_workers`` -> ``"2"``."""
    config = hubs.kubectl(
        "-n", "hub-science", "get", "configmap", "dask-gateway-config",
        "-o", r"jsonpath={.data.dask_gateway_config\.py}",
    )  # fmt: skip
    for line in config.splitlines():
        if line.split("=")[0].strip().endswith(f".{name}"):
            return line.split("=", 1)[1].strip().strip('"')
    raise AssertionError(f"{name} is not in the gateway's configuration:\n{config}")


def _hub_token(client: HubClient, scopes: list[str] | None = None) -> str:
    body: dict = {"note": "dask on kubernetes test", "expires_in": 3600}
    if scopes is not None:
        body["scopes"] = scopes
    resp = client.session.post(
        f"{client.base}/hub/api/users/{client.user}/tokens",
        json=body,
        headers=client._hub_headers(),
        timeout=60,
    )
    assert resp.status_code == 201, resp.text[:300]
    return resp.json()["token"]


def _gateway_get(hubs: KubeHubs, token: str, path: str):
    """GET on the science hub's gateway API through the front door, as ``token`` only (no
    session: the gateway's own cookie would stand for an earlier token)."""
    return requests.get(
        f"{hubs.urls['science'].rstrip('/')}/services/dask-gateway/api/v1/{path}",
        headers={"Authorization": f"jupyterhub {token}"},
        verify=hubs.ca,
        timeout=60,
    )


def _dask_pods(hubs: KubeHubs, cluster: str) -> list[dict]:
    out = hubs.kubectl(
        "-n", "hub-science", "get", "pods", "-l", f"gateway.dask.org/cluster={cluster}",
        "-o", "json",
    )  # fmt: skip
    return [p for p in json.loads(out)["items"] if not p["metadata"].get("deletionTimestamp")]


def _wait_dask_pods_gone(hubs: KubeHubs, cluster: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while pods := _dask_pods(hubs, cluster):
        names = [p["metadata"]["name"] for p in pods]
        assert time.monotonic() < deadline, f"cluster {cluster}'s pods {names} after {timeout} s"
        time.sleep(2)


@pytest.fixture(scope="module")
def science_kernel(science_ada):
    """Run code in one kernel of ada's science server (state kept); the last line as JSON."""
    client, xsrf = science_ada
    kid = client.start_kernel(xsrf)

    def run(code: str, timeout: float = 300) -> dict:
        return json.loads(client.run(kid, code, timeout=timeout).strip().splitlines()[-1])

    return run


@pytest.fixture(scope="module")
def science_cluster(kube_hubs, science_kernel) -> dict:
    """ada's Dask cluster on the science hub, from her kernel with nothing pasted: scaled past
    the hub's limit (told so), the platform's example computed on two worker pods."""
    most = int(_gateway_setting(kube_hubs, "cluster_max_workers"))
    return science_kernel(
        f"""
import json, os, warnings
import dask
from dask_gateway import Gateway
from jovial_examples import cubes

gateway = Gateway()
cluster = gateway.new_cluster()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    cluster.scale({most + 1})
client = cluster.get_client()
client.wait_for_workers(2, timeout=240)
ids = client.run(lambda: [os.getuid(), os.getgid(), sorted(os.getgroups()), os.environ.get("HOME")])
work = os.path.expanduser(f"~/dask-kube-{{cluster.name}}")
stats = dask.compute(*cubes.pipeline(work, 4, shape=(32, 32, 32)))
print(json.dumps({{"name": cluster.name, "most": {most},
                  "warnings": [str(w.message) for w in caught], "ids": list(ids.values()),
                  "summary": cubes.summarise(stats), "product": stats[0]["products"]["mom0"]}}))
"""
    )


def test_a_notebook_runs_a_dask_cluster_of_pods_as_the_user(kube_hubs, science_cluster):
    """Scheduler and workers are pods in the hub's namespace, as ada (uid, gid, groups, home
    on the shared filesystem), restricted; the example's products are hers."""
    ids = science_cluster["ids"]
    assert 2 <= len(ids) <= science_cluster["most"]
    for uid, gid, groups, home in ids:
        assert (uid, gid) == USERS["ada"]
        assert set(ADA_GROUPS) <= set(groups)
        assert home == f"{kube_hubs.home_root}/ada"
    pods = _dask_pods(kube_hubs, science_cluster["name"])
    roles = sorted(p["metadata"]["labels"]["app.kubernetes.io/component"] for p in pods)
    assert roles[0] == "dask-scheduler" and set(roles[1:]) == {"dask-worker"}
    assert len(ids) <= len(roles) - 1 <= science_cluster["most"]
    for pod in pods:
        spec = pod["spec"]
        assert spec["securityContext"]["runAsUser"] == USERS["ada"][0]
        assert spec["automountServiceAccountToken"] is False
        (container,) = spec["containers"]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert "limits" in container["resources"]
    summary = science_cluster["summary"]
    assert summary["cubes"] == 4 and summary["detected"] == 4
    product = science_cluster["product"]
    assert product.startswith(f"{kube_hubs.home_root}/ada/dask-kube-")
    assert _stat(kube_hubs, product)[0] == "10001:10100"


def test_scaling_past_the_hubs_limit_is_refused_with_a_message(science_cluster):
    """scale(most + 1) is cut to what the limits allow (cluster_max_workers, or fewer when the
    cluster's cores or memory run out first), and the user is told so."""
    most = science_cluster["most"]
    told = [
        re.search(r"exceed resource limit of (\d+) workers\. Scaling to (\d+) instead", w)
        for w in science_cluster["warnings"]
    ]
    cut = [(int(m[1]), int(m[2])) for m in told if m]
    assert cut, science_cluster["warnings"]
    (limit, scaled) = cut[0]
    assert limit == scaled <= most


def test_another_user_cannot_see_or_reach_the_cluster(kube_hubs, science_ada, science_cluster):
    """bruno lists no cluster, gets 403 on ada's, and from his own server cannot open a TCP
    connection to her scheduler pod (its NetworkPolicy admits her cluster and the gateway)."""
    name = science_cluster["name"]
    ada, _ = science_ada
    assert name in _gateway_get(kube_hubs, _hub_token(ada), "clusters/").json()
    bruno = login(kube_hubs, "science", "bruno")
    token = _hub_token(bruno)
    listed = _gateway_get(kube_hubs, token, "clusters/")
    assert listed.status_code == 200 and listed.json() == {}, listed.text[:300]
    assert _gateway_get(kube_hubs, token, f"clusters/{name}").status_code == 403
    narrow = _hub_token(bruno, scopes=["read:users:name!user"])
    assert _gateway_get(kube_hubs, narrow, "clusters/").status_code in (401, 403)
    (scheduler,) = [
        p
        for p in _dask_pods(kube_hubs, name)
        if p["metadata"]["labels"]["app.kubernetes.io/component"] == "dask-scheduler"
    ]
    xsrf = running(bruno)
    out = bruno.execute(
        xsrf,
        "import socket\ns = socket.socket(); s.settimeout(5)\n"
        f"try:\n    s.connect(('{scheduler['status']['podIP']}', 8786)); print('connected')\n"
        "except OSError as e:\n    print('blocked', type(e).__name__)\n",
    )
    assert out.startswith("blocked"), out
    bruno.stop_server()


def test_a_gateway_restart_keeps_the_running_cluster(kube_hubs, science_cluster, science_kernel):
    kubectl = kube_hubs.kubectl
    kubectl(
        "-n", "hub-science", "delete", "pod", "-l", "app.kubernetes.io/component=dask-gateway",
        "--wait=true",
    )  # fmt: skip
    kubectl("-n", "hub-science", "rollout", "status", "deploy/dask-gateway", "--timeout=240s")
    out = science_kernel(
        "print(json.dumps({'sum': client.submit(sum, [1, 2, 3]).result(),"
        " 'status': gateway.list_clusters()[0].status.name}))"
    )
    assert out == {"sum": 6, "status": "RUNNING"}


# How long the idle test waits at most; a hub whose clusters idle longer is not tested here.
DASK_IDLE_WAIT_LIMIT = 240


def test_an_idle_cluster_stops_and_its_pods_go(kube_hubs, science_cluster):
    idle = float(_gateway_setting(kube_hubs, "idle_timeout"))
    if not 0 < idle <= DASK_IDLE_WAIT_LIMIT - 60:
        pytest.skip(
            f"the science hub's clusters stop after {idle:g} s idle; this test waits "
            f"{DASK_IDLE_WAIT_LIMIT} s at most (Molecule jupyterhub: 60 s)"
        )
    _wait_dask_pods_gone(kube_hubs, science_cluster["name"], DASK_IDLE_WAIT_LIMIT)


def test_a_users_clusters_stop_with_her_server(kube_hubs, science_ada):
    """A cluster left running by a kernel (not shut down on close) stops when ada's server
    stops: the gateway asks the hub who still has a server, and deletes the others' pods."""
    client, xsrf = science_ada
    out = client.execute(
        xsrf,
        "import json; from dask_gateway import Gateway\n"
        "cluster = Gateway().new_cluster(shutdown_on_close=False)\n"
        "print(json.dumps({'name': cluster.name}))",
        timeout=240,
    )
    name = json.loads(out.strip().splitlines()[-1])["name"]
    assert _dask_pods(kube_hubs, name), f"cluster {name} has no pod"
    started = time.monotonic()
    assert client.stop_server() in (202, 204)
    _wait_dask_pods_gone(kube_hubs, name, 120)
    assert time.monotonic() - started < 120
    log = kube_hubs.kubectl("-n", "hub-science", "logs", "deploy/dask-gateway", "--tail=300")
    assert f"Stopping cluster {name}: its owner ada has no server running" in log
