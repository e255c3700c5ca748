"""The lab's hubs on Kubernetes, as astronomers and operators use them (`make lab-check`,
after `make lab`). Everything goes through the front door's VIP over HTTPS verified against
the lab's CA, with real clients (cookies, XSRF, the kernel's websocket):

- an LDAP user logs in to the science hub under /science/, starts a server (a KubeSpawner pod)
  and runs code in a kernel: it runs as their LDAP uid, gid and groups, with HOME their home
  on the shared filesystem, and a file written there has their uid/gid on hub1 (another
  client of the filesystem); their campaign's group directory is mounted, no other
  campaign's; nothing else is writable but a private /tmp;
- another user gets 403 on that server, and from their own pod cannot open a TCP connection
  to the first user's pod (NetworkPolicy);
- the hub pod deleted and back: the user's pod (same UID) and file are intact;
- the teaching hub's quota takes one small server: a second one is refused with a message the
  user can read (403, not a pod stuck Pending);
- the hub's accounting database has the start;
- headless Chromium logs in to the science hub and JupyterLab renders (molecule/resources/
  jovial_browser.py, shared with the Molecule jupyterhub scenario).

Nothing here is mocked; it needs the lab (build/lab/access.env).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from jovial_browser import (
    api_status,
    chromium,
    lands_in_jupyterlab,
    screenshot_on_failure,
    stop_my_server,
    submit_login,
)

from jovial_hub.client import HubClient, HubError

TOP = Path(__file__).resolve().parents[2]
ACCESS = TOP / "build" / "lab" / "access.env"

if not ACCESS.exists():
    pytest.skip(
        f"no lab: {ACCESS} is missing (make lab writes it); these checks need the running lab",
        allow_module_level=True,
    )


def _access() -> dict[str, str]:
    out = {}
    for line in ACCESS.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "export")):
            key, value = line.split("=", 1)
            out[key] = value.strip('"')
    return out


ENV = _access()
USERS = {"ada": (10001, 10100), "bruno": (10002, 10101)}
PASSWORDS = {"ada": ENV.get("LAB_PASSWORD", ""), "bruno": ENV.get("LAB_PASSWORD2", "")}


def kubectl(*args: str) -> str:
    return subprocess.run(
        [ENV["KUBECTL"], *args],
        env={**os.environ, "KUBECONFIG": ENV["KUBECONFIG"]},
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout


def ssh(host: str, command: str) -> str:
    key = TOP / "build" / "lab" / "ssh" / "id_ed25519"
    hosts = yaml.safe_load((TOP / "inventories" / "lab" / "hosts.yml").read_text())
    address = hosts["all"]["children"]["lab_nodes"]["hosts"][host]["jovial_address"]
    return subprocess.run(
        [
            "ssh",
            "-i",
            str(key),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            f"root@{address}",
            command,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def login(hub_url: str, user: str) -> HubClient:
    client = HubClient(hub_url, ENV["LAB_CA"], timeout=60)
    resp = client.login(user, PASSWORDS[user])
    assert resp.status_code == 200, resp.text[:300]
    return client


def running(client: HubClient) -> str:
    """Start (or find) the user's server, wait until ready, open it; its XSRF token."""
    assert client.start_server() in (201, 202, 400)
    assert client.wait_ready(timeout=240, interval=1), f"{client.user}'s server never got ready"
    return client.open_server()


@pytest.fixture(scope="module")
def science_ada() -> tuple[HubClient, str]:
    client = login(ENV["HUB_SCIENCE_URL"], "ada")
    return client, running(client)


def test_code_runs_as_the_users_ldap_identity_with_the_shared_home(science_ada):
    client, xsrf = science_ada
    out = client.execute(
        xsrf,
        "import os, json; print(json.dumps([os.getuid(), os.getgid(), sorted(os.getgroups()),"
        " os.environ['HOME'], os.getcwd()]));"
        "open(os.path.expanduser('~/from-kubernetes.txt'), 'w').write('M31')",
    )
    uid, gid, groups, home, cwd = json.loads(out)
    assert (uid, gid) == USERS["ada"]
    assert groups == [10000, 10100]  # jovial-admins, campaign-deep (inventories/lab)
    assert home == cwd == "/lustre/jovial/home/ada"
    # The same file, as hub1 (a client of the shared filesystem) sees it.
    assert ssh(
        "hub1", "stat -c '%u:%g %s' /lustre/jovial/home/ada/from-kubernetes.txt"
    ).split() == [
        "10001:10100",
        "3",
    ]


def test_the_users_campaign_directory_is_there_and_no_other(science_ada):
    """ada is in campaign-deep (a lustre_quotas group: its directory is made by the storage
    layer); campaign-transient's directory is bruno's campaign's, not in her pod."""
    client, xsrf = science_ada
    out = client.execute(
        xsrf,
        "import os, json\n"
        "root = '/lustre/jovial/groups'\n"
        "open(root + '/campaign-deep/from-kubernetes.txt', 'w').write('NGC 253')\n"
        "print(json.dumps([sorted(os.listdir(root)),"
        " os.path.exists(root + '/campaign-transient')]))",
    )
    listed, other = json.loads(out)
    assert listed == ["campaign-deep"]
    assert other is False
    # On hub1 the file is ada's, in the campaign's group (the directory is setgid).
    assert ssh(
        "hub1", "stat -c '%u:%g %s' /lustre/jovial/groups/campaign-deep/from-kubernetes.txt"
    ).split() == ["10001:10100", "7"]


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


def test_another_user_is_refused_and_cannot_reach_the_pod(science_ada):
    bruno = login(ENV["HUB_SCIENCE_URL"], "bruno")
    resp = bruno.session.get(f"{bruno.base}/user/ada/api/status", timeout=60)
    assert resp.status_code == 403
    pod_ip = kubectl(
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


def test_the_hub_restarts_without_touching_the_users_server(science_ada):
    before = kubectl(
        "-n", "hub-science", "get", "pod", "jupyter-ada", "-o", "jsonpath={.metadata.uid}"
    )
    kubectl(
        "-n", "hub-science", "delete", "pod", "-l", "app.kubernetes.io/component=hub", "--wait=true"
    )
    kubectl("-n", "hub-science", "rollout", "status", "deploy/hub", "--timeout=240s")
    after = kubectl(
        "-n", "hub-science", "get", "pod", "jupyter-ada", "-o", "jsonpath={.metadata.uid}"
    )
    assert after == before
    client = login(ENV["HUB_SCIENCE_URL"], "ada")
    model = client.server()
    assert model and model["ready"]
    client.open_server()
    assert client.read_file("from-kubernetes.txt") == "M31"


def test_the_start_is_accounted(science_ada):
    rows = kubectl(
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


def test_a_server_over_the_quota_is_refused_with_a_readable_message():
    ada = login(ENV["HUB_TEACHING_URL"], "ada")
    running(ada)
    bruno = login(ENV["HUB_TEACHING_URL"], "bruno")
    with pytest.raises(HubError) as refused:
        bruno.start_server()
    message = str(refused.value)
    assert "403" in message
    assert "The teaching hub has no room for your server now (limits.memory" in message
    pods = kubectl("-n", "hub-teaching", "get", "pods", "-o", "name")
    assert "pod/jupyter-bruno" not in pods  # refused, not Pending
    ada.stop_server()
    deadline = time.monotonic() + 120
    while ada.server() and time.monotonic() < deadline:
        time.sleep(1)


def test_a_browser_logs_in_to_the_kubernetes_hub_and_jupyterlab_renders():
    """Headless Chromium, trusting the lab's CA only, through the front door to the science
    hub under /science/: bruno logs in, lands in JupyterLab served by his pod, whose API
    refuses the session without the XSRF token, then stops his server from the hub's page."""
    hub = ENV["HUB_SCIENCE_URL"].rstrip("/")
    shots = TOP / "build" / "lab" / "screenshots"
    with (
        chromium(Path(ENV["LAB_CA"])) as browser,
        screenshot_on_failure(browser, shots, "science-login"),
    ):
        submit_login(browser, hub, "bruno", PASSWORDS["bruno"])
        lands_in_jupyterlab(browser, hub, "bruno", shots, "science-jupyterlab")
        assert api_status(browser, hub, "bruno", with_xsrf=False) == 403
        assert api_status(browser, hub, "bruno", with_xsrf=True) == 200
        stop_my_server(browser, hub)
    # The hub stopped the server: its pod goes (after the kubelet's termination grace).
    deadline = time.monotonic() + 120
    while "pod/jupyter-bruno" in kubectl("-n", "hub-science", "get", "pods", "-o", "name"):
        assert time.monotonic() < deadline, "bruno's pod still exists 120 s after the stop"
        time.sleep(2)
