"""Dask for users, from a notebook's kernel, with the gateway reached through the front door.

ada logs in through the proxy VIP, starts her server and, in its kernel, with no credentials to
paste, starts a Dask Gateway cluster, scales it past the platform's limit (told so), runs the
platform's example (synthetic radio cubes and their moment maps on the shared home root) on two
workers. The workers must run as her LDAP uid, gid and groups; the files they write must be
hers; a second cluster must be refused with a readable message; bruno must neither list nor
read her cluster; a gateway restart must keep it; it must stop when idle, and a cluster must
stop when its owner's server stops. The limits are this scenario's (molecule.yml): 2 workers
and 1 cluster per user, idle after 60 s, owners' servers checked every 5 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

import pytest
import requests
from jovial_fixtures import wait_for

from jovial_hub.client import HubClient

VIP = "10.78.5.100"
BASE = f"https://{VIP}"
GATEWAY = f"{BASE}/services/dask-gateway/api/v1"
EPH = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
CA = str(EPH / "pki" / "ca.crt")
ADA = {"uid": 10001, "gid": 10100, "groups": {10100, 10000}}  # campaign-deep, jovial-admins
MAX_WORKERS = 2
IDLE_TIMEOUT = 60


def _login(user: str) -> HubClient:
    client = HubClient(BASE, CA)
    password = (EPH / "secrets" / f"ldap_password_{user}").read_text().strip()
    assert client.login(user, password).status_code == 200
    return client


def _token(client: HubClient, scopes: list[str] | None = None) -> str:
    """A JupyterHub API token of the logged-in user (all their scopes, or only ``scopes``)."""
    body: dict = {"note": "molecule dask test", "expires_in": 3600}
    if scopes is not None:
        body["scopes"] = scopes
    resp = client.session.post(
        f"{BASE}/hub/api/users/{client.user}/tokens",
        json=body,
        headers=client._hub_headers(),
        timeout=60,
    )
    assert resp.status_code == 201, resp.text[:300]
    return resp.json()["token"]


def _clusters(token: str) -> dict:
    resp = requests.get(
        f"{GATEWAY}/clusters/",
        headers={"Authorization": f"jupyterhub {token}"},
        verify=CA,
        timeout=30,
    )
    assert resp.status_code == 200, (resp.status_code, resp.text[:300])
    return resp.json()


@pytest.fixture(scope="module")
def ada() -> HubClient:
    client = _login("ada")
    assert client.start_server() in (201, 202, 400)
    assert client.wait_ready(timeout=180, interval=2), "ada's server never became ready"
    return client


@pytest.fixture(scope="module")
def ada_token(ada) -> str:
    return _token(ada)


@pytest.fixture(scope="module")
def kernel(ada):
    """Run code in one kernel of ada's server (state kept between calls); JSON out."""
    xsrf = ada.open_server()
    kid = ada.start_kernel(xsrf)

    def run(code: str, timeout: float = 240) -> dict:
        return json.loads(ada.run(kid, code, timeout=timeout).strip().splitlines()[-1])

    yield run
    with contextlib.suppress(requests.RequestException):  # the last test stopped the server
        ada.stop_kernel(xsrf, kid)


@pytest.fixture(scope="module")
def cluster(kernel) -> dict:
    """ada's cluster, scaled past the limit, the example computed on it."""
    return kernel(
        f"""
import grp, json, os, warnings
import dask
from dask_gateway import Gateway
from jovial_examples import cubes

gateway = Gateway()
cluster = gateway.new_cluster()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    cluster.scale({MAX_WORKERS + 1})
client = cluster.get_client()
client.wait_for_workers({MAX_WORKERS}, timeout=180)
ids = client.run(lambda: [os.getuid(), os.getgid(), sorted(os.getgroups()), os.environ.get("HOME")])
# A directory of this run's own: the pipeline reuses cubes it finds.
work = os.path.expanduser(f"~/dask-example-{{cluster.name}}")
stats = dask.compute(*cubes.pipeline(work, 6, shape=(64, 32, 32)))
try:
    gateway.new_cluster()
    second = "created"
except ValueError as exc:
    second = str(exc)
print(json.dumps({{"name": cluster.name, "warnings": [str(w.message) for w in caught],
                  "ids": list(ids.values()), "summary": cubes.summarise(stats),
                  "product": stats[0]["products"]["mom0"], "second": second}}))
"""
    )


def test_cluster_workers_run_as_the_user_with_her_groups(cluster, node):
    assert len(cluster["ids"]) == MAX_WORKERS
    for uid, gid, groups, home in cluster["ids"]:
        assert (uid, gid) == (ADA["uid"], ADA["gid"])
        # Her directory groups (SSSD does not enumerate them: Jovial's backend sets them).
        assert ADA["groups"] <= set(groups)
        assert home == "/lustre/home/ada"
    # No cluster process runs as root or as a service account.
    procs = node("mj-hub").run(
        "ps -eo user:20,args | grep -E 'dask (scheduler|worker)' | grep -v grep"
    )
    owners = {line.split()[0] for line in procs.stdout.splitlines()}
    assert owners == {"ada"}, procs.stdout


def test_the_example_writes_moment_maps_the_user_owns(cluster, node):
    summary = cluster["summary"]
    assert summary["cubes"] == 6 and summary["detected"] == 6
    # Noise as generated (1 mJy/beam), measured from line-free channels.
    assert 0.00085 < summary["rms_jy"][0] <= summary["rms_jy"][1] < 0.00115
    product = cluster["product"]
    assert product.startswith("/lustre/home/ada/dask-example-")
    assert "/moments/" in product
    owner = node("mj-hub").run(f"stat -c '%U %u %g' {product}")
    assert owner.stdout.split() == ["ada", "10001", "10100"]


def test_scaling_past_the_limit_and_a_second_cluster_are_refused_with_a_message(cluster):
    assert any(
        f"exceed resource limit of {MAX_WORKERS} workers" in w for w in cluster["warnings"]
    ), cluster["warnings"]
    assert "the limit is 1 per user" in cluster["second"], cluster["second"]


def test_another_user_cannot_list_or_read_the_cluster(cluster, ada_token):
    name = cluster["name"]
    assert name in _clusters(ada_token)
    bruno = _login("bruno")
    token = _token(bruno)
    assert _clusters(token) == {}
    resp = requests.get(
        f"{GATEWAY}/clusters/{name}",
        headers={"Authorization": f"jupyterhub {token}"},
        verify=CA,
        timeout=30,
    )
    assert resp.status_code == 403, resp.text[:300]
    # A token of bruno's without access to the gateway service is refused outright.
    narrow = _token(bruno, scopes=["read:users:name!user"])
    resp = requests.get(
        f"{GATEWAY}/clusters/",
        headers={"Authorization": f"jupyterhub {narrow}"},
        verify=CA,
        timeout=30,
    )
    assert resp.status_code in (401, 403), resp.text[:300]


def test_a_gateway_restart_keeps_the_running_cluster(cluster, kernel, ada_token, node):
    hub = node("mj-hub")
    assert hub.run("systemctl restart dask-gateway").rc == 0

    def healthy():
        try:
            resp = requests.get(f"{BASE}/services/dask-gateway/api/health", verify=CA, timeout=5)
            return resp.status_code == 200
        except requests.RequestException:
            return False

    assert wait_for(healthy, timeout=60, interval=1)
    assert _clusters(ada_token)[cluster["name"]]["status"] == "RUNNING"
    out = kernel(
        "print(json.dumps({'sum': client.submit(sum, [1, 2, 3]).result(),"
        " 'workers': len(client.scheduler_info()['workers'])}))"
    )
    assert out == {"sum": 6, "workers": MAX_WORKERS}


def test_an_idle_cluster_stops_by_itself(cluster, ada_token, node):
    name = cluster["name"]
    gone = wait_for(lambda: name not in _clusters(ada_token), timeout=IDLE_TIMEOUT * 3, interval=5)
    assert gone, f"cluster {name} still running {IDLE_TIMEOUT * 3} s after its last task"
    # Its processes end too (the gateway signals them; a busy node takes a moment).
    hub = node("mj-hub")
    procs = wait_for(
        lambda: hub.run("pgrep -u ada -f 'dask (scheduler|worker)'").rc == 1, timeout=30
    )
    assert procs, hub.run("ps -u ada -o pid,etime,args").stdout


def test_clusters_stop_when_the_users_server_stops(ada, ada_token, node):
    started = time.monotonic()
    # From a kernel of its own, and not shut down when that kernel exits (as when a kernel
    # dies: dask-gateway #255): only the gateway's check of the owners' servers may stop it.
    out = ada.execute(
        ada.open_server(),
        "import json; from dask_gateway import Gateway\n"
        "cluster = Gateway().new_cluster(shutdown_on_close=False)\n"
        "print(json.dumps({'name': cluster.name}))",
        timeout=240,
    )
    name = json.loads(out.strip().splitlines()[-1])["name"]
    assert name in _clusters(ada_token)
    assert ada.stop_server() in (202, 204)
    gone = wait_for(lambda: name not in _clusters(ada_token), timeout=60, interval=2)
    assert gone, f"cluster {name} outlived ada's server"
    # Stopped because the server stopped, not by the idle timeout.
    assert time.monotonic() - started < IDLE_TIMEOUT
    log = node("mj-hub").run("journalctl -u dask-gateway --no-pager -n 200")
    assert f"Stopping cluster {name}: its owner ada has no server running" in log.stdout
