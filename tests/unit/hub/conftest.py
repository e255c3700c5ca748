"""Fixtures for the hub package: a KubeSpawner that never talks to a cluster, sample users.

KubeSpawner loads a kubeconfig when it is created; ``offline_kubeconfig`` points it at one
whose API server (127.0.0.1:9, the discard port) is never contacted: building a pod manifest
makes no API call.
"""

from __future__ import annotations

from pathlib import Path
from unittest.mock import Mock

import pytest
from jupyterhub.objects import Hub, Server

from jovial_hub.identity import Identity

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
  - name: offline
    cluster: {server: "https://127.0.0.1:9"}
users:
  - name: nobody
    user: {token: not-a-token}
contexts:
  - name: offline
    context: {cluster: offline, user: nobody}
current-context: offline
"""

# A directory user as the ldap layer creates them (inventories/sample ldap.yml: jsoto).
JSOTO = Identity(
    name="jsoto",
    uid=10002,
    gid=10100,
    groups=(10101,),
    home="/lustre/home/jsoto",
    group_names=("survey-gal", "survey-var"),
)


class MockUser(Mock):
    """The hub's User as KubeSpawner's own tests mock it (name, server, url)."""

    name = "jsoto"
    server = Server()

    def __init__(self, **kwargs):
        super().__init__()
        for key, value in kwargs.items():
            setattr(self, key, value)

    @property
    def escaped_name(self):
        return self.name

    @property
    def url(self):
        return self.server.url


@pytest.fixture
def offline_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from kubernetes_asyncio.config import kube_config

    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
    return path


@pytest.fixture
def hub() -> Hub:
    return Hub()


@pytest.fixture
def jsoto() -> Identity:
    return JSOTO


@pytest.fixture
def mock_user() -> type[MockUser]:
    return MockUser
