"""The hubs on Kubernetes (science and teaching, KubeSpawner on mj-kw1 and mj-kw2): the checks
of molecule/resources/jovial_kube_hubs.py (shared with the lab's `make lab-check`), through
this scenario's front door. The shared filesystem is the directory mj-hub, mj-kw1 and mj-kw2
mount at /lustre (driver.jovial_shared_dirs); mj-hub is the other client that sees the
user's files.
This scenario has no campaign directories (the storage layer makes them, as in the lab).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
from jovial_kube_hubs import *  # noqa: F403 (the shared tests and their fixture)
from jovial_kube_hubs import KubeHubs

VIP = "10.78.5.100"
EPH = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))


@pytest.fixture(scope="session")
def kube_hubs(node) -> KubeHubs:
    def kubectl(*args: str) -> str:
        cmd = shlex.join(["kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", *args])
        result = node("mj-kcp1").run(cmd)
        assert result.rc == 0, f"{cmd}: {result.stderr}"
        return result.stdout

    def on_hub(command: str) -> str:
        return node("mj-hub").check_output(command)

    return KubeHubs(
        urls={"science": f"https://{VIP}/science/", "teaching": f"https://{VIP}/teaching/"},
        ca=str(EPH / "pki" / "ca.crt"),
        passwords={
            user: (EPH / "secrets" / f"ldap_password_{user}").read_text().strip()
            for user in ("ada", "bruno")
        },
        home_root="/lustre/home",
        group_root=None,
        kubectl=kubectl,
        on_client=on_hub,
        shots=EPH / "screenshots",
    )
