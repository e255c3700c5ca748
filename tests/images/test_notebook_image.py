"""Smoke test of the notebook image (images/notebook), run by `make images-test`.

The image is run the way KubeSpawner runs it under Pod Security "restricted": as an
arbitrary uid:gid that has no passwd entry (the user's LDAP identity), every capability
dropped, no privilege escalation, and here also a read-only root filesystem and no network.
It must import the scientific stack at the pinned versions, start jupyterhub-singleuser (its
default command) and answer HTTP, without ever being root.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
HERE = TOP / "images" / "notebook"
UID, GID = 12345, 12345
# What KubeSpawner's restricted pods get, plus a read-only root and no network.
RESTRICTED = [
    f"--user={UID}:{GID}",
    "--read-only",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges",
    "--network=none",
]
MODULES = {
    "astropy": "astropy",
    "numpy": "numpy",
    "scipy": "scipy",
    "matplotlib": "matplotlib",
    "dask": "dask",
    "distributed": "distributed",
    "dask-gateway": "dask_gateway",
    "jupyterlab": "jupyterlab",
    "ipykernel": "ipykernel",
}


def _pins() -> dict[str, str]:
    """{name: version} from images/notebook/requirements.txt (extras dropped)."""
    pins = {}
    for line in (HERE / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[re.sub(r"\[.*\]", "", name).lower()] = version
    return pins


@pytest.fixture(scope="session")
def image() -> str:
    name = subprocess.run(
        [str(HERE / "build.sh"), "--print"], check=True, capture_output=True, text=True
    ).stdout.strip()
    if subprocess.run(["podman", "image", "exists", name]).returncode != 0:
        pytest.fail(f"image {name} is not built (its inputs changed?): run 'make images' first")
    return name


def _run(image: str, *argv: str, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["podman", "run", "--rm", *RESTRICTED, *extra, image, *argv],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_image_defaults_to_a_non_root_user_and_the_singleuser_server(image):
    config = json.loads(
        subprocess.run(
            ["podman", "image", "inspect", image], check=True, capture_output=True, text=True
        ).stdout
    )[0]["Config"]
    uid = config["User"].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"image user {config['User']!r} must be a non-root uid"
    assert config["Cmd"] == ["jupyterhub-singleuser"]
    assert config["Entrypoint"][0] == "/usr/bin/tini"


def test_science_stack_imports_at_the_pinned_versions_as_an_arbitrary_uid(image):
    pins = _pins()
    script = (
        "import importlib, importlib.metadata as md, json, os\n"
        f"mods = {MODULES!r}\n"
        "for m in mods.values(): importlib.import_module(m)\n"
        "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt\n"
        "plt.plot([1, 2]); plt.savefig(os.path.join(os.environ['HOME'], 'plot.png'))\n"
        "import dask.array as da; assert int(da.ones(10, chunks=5).sum().compute()) == 10\n"
        "from astropy import units as u; assert (1 * u.pc).to(u.lyr).value > 3.2\n"
        "print(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'home': os.environ['HOME'],\n"
        "  'versions': {p: md.version(p) for p in mods}}))\n"
    )
    proc = _run(image, "python", "-c", script)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (out["uid"], out["gid"]) == (UID, GID)
    # Read-only root: the start script gave the uid a private, writable HOME under /tmp.
    assert out["home"].startswith("/tmp/home-12345."), out["home"]
    wrong = {p: v for p, v in out["versions"].items() if p in pins and pins[p] != v}
    assert not wrong, f"installed versions differ from requirements.txt: {wrong}"
    assert set(MODULES) - {"ipykernel"} <= set(pins), "a stack package is not pinned"


def test_singleuser_and_lab_report_the_pinned_versions(image):
    pins = _pins()
    single = _run(image, "jupyterhub-singleuser", "--version")
    assert single.returncode == 0, single.stderr[-3000:]
    assert single.stdout.strip().splitlines()[-1] == pins["jupyterhub"]
    lab = _run(image, "jupyter", "lab", "--version")
    assert lab.returncode == 0, lab.stderr[-3000:]
    assert lab.stdout.strip().splitlines()[-1] == pins["jupyterlab"]


def test_nothing_in_the_image_can_become_root(image):
    # No setuid/setgid programs (sudo, su, mount come with the node base image).
    found = _run(image, "find", "/", "-xdev", "-type", "f", "-perm", "/6000")
    assert found.stdout.strip() == "", f"setuid/setgid files: {found.stdout}"
    sudo = _run(image, "sudo", "-n", "true")
    assert sudo.returncode != 0


@pytest.fixture
def server(image) -> Iterator[str]:
    """The image's default command (jupyterhub-singleuser) started as a hub would start it;
    yields the container name. The server exits unless its hub's API answers at start, so a
    stand-in (a static file server, same restrictions) shares its network namespace."""
    name = f"jovial-nbtest-{uuid.uuid4().hex[:8]}"
    hub = f"{name}-hub"
    stub = (
        "mkdir -p /tmp/root/hub/api && echo '{}' > /tmp/root/hub/api/index.html"
        " && exec python -m http.server --bind 127.0.0.1 --directory /tmp/root 8081"
    )
    env = {
        "JUPYTERHUB_USER": "ada",
        "JUPYTERHUB_API_TOKEN": uuid.uuid4().hex,
        "JUPYTERHUB_CLIENT_ID": "jupyterhub-user-ada",
        "JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api/",
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_SERVICE_PREFIX": "/user/ada/",
        "JUPYTERHUB_SERVICE_URL": "http://127.0.0.1:8888/user/ada/",
        "JUPYTERHUB_OAUTH_CALLBACK_URL": "/user/ada/oauth_callback",
    }
    try:
        subprocess.run(
            ["podman", "run", "-d", "--name", hub, *RESTRICTED, image, "sh", "-c", stub],
            check=True,
            capture_output=True,
            text=True,
        )
        net = [a for a in RESTRICTED if a != "--network=none"] + [f"--network=container:{hub}"]
        subprocess.run(
            ["podman", "run", "-d", "--name", name, *net]
            + [f"--env={k}={v}" for k, v in env.items()]
            + [image],
            check=True,
            capture_output=True,
            text=True,
        )
        yield name
    finally:
        for c in (name, hub):
            subprocess.run(["podman", "rm", "-f", "-t", "5", c], capture_output=True)


def test_default_command_serves_as_the_arbitrary_uid(server):
    deadline = time.monotonic() + 120
    while True:
        probe = subprocess.run(
            ["podman", "exec", server, "curl", "-sf", "http://127.0.0.1:8888/user/ada/api"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)
    logs = subprocess.run(["podman", "logs", server], capture_output=True, text=True)
    assert probe.returncode == 0, (
        f"server never answered: {logs.stdout[-2000:]}{logs.stderr[-2000:]}"
    )
    assert "version" in json.loads(probe.stdout)
    ps = subprocess.run(
        ["podman", "top", server, "user", "huser", "args"], capture_output=True, text=True
    )
    rows = [r.split(None, 2) for r in ps.stdout.strip().splitlines()[1:]]
    assert rows and all(r[0] == str(UID) for r in rows), ps.stdout
    assert any("jupyterhub-singleuser" in r[2] for r in rows), ps.stdout
