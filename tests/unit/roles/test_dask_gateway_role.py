"""roles/dask_gateway: the gateway's pins agree with the users' client, and the rendered
configuration names only traits the gateway's classes have (a typo would be ignored with a
warning at start and the setting silently lost)."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLE = ROOT / "roles" / "dask_gateway"


def _pins(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, version = line.split("==")
            out[re.sub(r"\[.*\]", "", name).lower()] = version
    return out


def test_the_gateway_server_is_the_version_of_the_users_client():
    server = _pins(ROLE / "files" / "requirements.txt")
    users = _pins(ROOT / "images" / "notebook" / "requirements.txt")
    assert server["dask-gateway-server"] == users["dask-gateway"]
    assert users["dask"] == users["distributed"]


def _rendered(tmp_path: Path) -> Path:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    values = {k: v for k, v in defaults.items() if not (isinstance(v, str) and "{{" in v)} | {
        "dask_gateway_hub_api_url": "http://127.0.0.1:8081/hub/api",
        "dask_gateway_user_venv": "/opt/jovial/notebook",
        "ansible_managed": "test",
    }
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["to_json"] = __import__("json").dumps
    text = env.from_string((ROLE / "templates" / "dask_gateway_config.py.j2").read_text())
    out = tmp_path / "dask_gateway_config.py"
    out.write_text(text.render(**values))
    return out


def test_every_configured_trait_exists_on_its_class(tmp_path):
    pytest.importorskip("dask_gateway_server", reason="the dask extra is not installed")
    from dask_gateway_server.app import DaskGateway
    from dask_gateway_server.auth import JupyterHubAuthenticator
    from dask_gateway_server.backends.local import LocalClusterConfig
    from dask_gateway_server.proxy import Proxy
    from traitlets.config import PyFileConfigLoader

    from jovial_dask.gateway import JovialLocalBackend

    path = _rendered(tmp_path)
    config = PyFileConfigLoader(path.name, str(path.parent)).load_config()
    classes = {
        "DaskGateway": DaskGateway,
        "Proxy": Proxy,
        "JupyterHubAuthenticator": JupyterHubAuthenticator,
        "JovialLocalBackend": JovialLocalBackend,
        "LocalClusterConfig": LocalClusterConfig,
    }
    assert set(config) == set(classes)
    for section, cls in classes.items():
        traits = cls.class_traits(config=True)
        for name, value in config[section].items():
            assert name in traits, f"{section}.{name} is not a trait of {cls.__name__}"
            traits[name].validate(cls(), value) if section == "LocalClusterConfig" else None
    # Clusters survive a gateway restart: a file database, never stopped on shutdown.
    assert config["JovialLocalBackend"]["db_url"].startswith("sqlite:////var/lib/")
    assert config["JovialLocalBackend"]["stop_clusters_on_shutdown"] is False
    # Loopback only.
    for key in ("address", "tcp_address"):
        assert config["Proxy"][key].startswith("127.0.0.1:")
    assert config["DaskGateway"]["address"].startswith("127.0.0.1:")
    assert config["JupyterHubAuthenticator"]["jupyterhub_service_name"] == "dask-gateway"
