"""The lab's hubs on Kubernetes, as astronomers and operators use them (`make lab-check`,
after `make lab`): the checks of molecule/resources/jovial_kube_hubs.py (shared with Molecule
`jupyterhub`), on the lab. The shared filesystem is the lab's MooseFS at /lustre/jovial,
hub1 the other client that sees the user's files; the lab has campaign directories.

Nothing here is mocked; it needs the lab (build/lab/access.env).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from jovial_kube_hubs import *  # noqa: F403 (the shared tests and their fixture)
from jovial_kube_hubs import KubeHubs

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


def _kubectl(*args: str) -> str:
    return subprocess.run(
        [ENV["KUBECTL"], *args],
        env={**os.environ, "KUBECONFIG": ENV["KUBECONFIG"]},
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout


def _on_hub1(command: str) -> str:
    key = TOP / "build" / "lab" / "ssh" / "id_ed25519"
    hosts = yaml.safe_load((TOP / "inventories" / "lab" / "hosts.yml").read_text())
    address = hosts["all"]["children"]["lab_nodes"]["hosts"]["hub1"]["jovial_address"]
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


@pytest.fixture(scope="session")
def kube_hubs() -> KubeHubs:
    return KubeHubs(
        urls={"science": ENV["HUB_SCIENCE_URL"], "teaching": ENV["HUB_TEACHING_URL"]},
        ca=ENV["LAB_CA"],
        passwords={"ada": ENV.get("LAB_PASSWORD", ""), "bruno": ENV.get("LAB_PASSWORD2", "")},
        home_root="/lustre/jovial/home",
        group_root="/lustre/jovial/groups",
        kubectl=_kubectl,
        on_client=_on_hub1,
        shots=TOP / "build" / "lab" / "screenshots",
    )
