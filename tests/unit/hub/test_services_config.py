"""The hub's services: idle culler always, the read-only verify service only with a token."""

from __future__ import annotations

import pytest

from jovial_hub import config

CULL = ["/opt/jupyterhub/bin/python3", "-m", "jupyterhub_idle_culler", "--timeout=3600"]


def test_without_a_verify_token_only_the_culler_is_configured() -> None:
    traits = config.hub_services_config(CULL)
    assert traits["services"] == [{"name": "idle-culler", "command": CULL}]
    assert [r["name"] for r in traits["load_roles"]] == ["idle-culler"]
    assert "delete:servers" in traits["load_roles"][0]["scopes"]


def test_verify_service_gets_read_only_scopes_and_its_token() -> None:
    token = "t" * 48
    traits = config.hub_services_config(CULL, token)
    verify = [s for s in traits["services"] if s["name"] == "jovial-verify"]
    assert verify == [{"name": "jovial-verify", "api_token": token}]
    (role,) = [r for r in traits["load_roles"] if r["name"] == "jovial-verify"]
    assert role["services"] == ["jovial-verify"]
    assert set(role["scopes"]) == {"list:users", "read:users", "read:servers"}
    # Nothing that changes servers or reads user content.
    assert not any(s.startswith(("delete:", "admin", "access:", "servers")) for s in role["scopes"])


def test_short_verify_token_is_refused() -> None:
    with pytest.raises(ValueError, match="fewer than 32"):
        config.hub_services_config(CULL, "short")


def test_the_culler_command_is_copied_not_shared() -> None:
    cmd = list(CULL)
    traits = config.hub_services_config(cmd)
    cmd.append("--max-age=1")
    assert traits["services"][0]["command"] == CULL


GATEWAY = {"http_port": 8010, "scheduler_port": 8786, "api_token": "g" * 48}


def test_the_gateway_is_a_service_its_users_may_access_and_its_token_only_reads_servers():
    traits = config.hub_services_config(CULL, None, GATEWAY)
    (service,) = [s for s in traits["services"] if s["name"] == "dask-gateway"]
    assert service["url"] == "http://127.0.0.1:8010"  # the hub's proxy routes to it locally
    assert service["api_token"] == GATEWAY["api_token"]
    roles = {r["name"]: r for r in traits["load_roles"]}
    assert roles["dask-gateway"]["services"] == ["dask-gateway"]
    assert set(roles["dask-gateway"]["scopes"]) == {"read:users:name", "read:servers"}
    # Every user keeps their own scopes and may use the gateway.
    assert roles["user"]["scopes"] == ["self", "access:services!service=dask-gateway"]


def test_without_a_gateway_there_is_no_gateway_service_and_no_user_role_change():
    traits = config.hub_services_config(CULL, None, {})
    assert "dask-gateway" not in [s["name"] for s in traits["services"]]
    assert "user" not in [r["name"] for r in traits["load_roles"]]
    assert config.dask_gateway_spawner_config({}, "10.0.0.5", 8000, "https://x") == {}


def test_a_short_gateway_token_is_refused():
    with pytest.raises(ValueError, match="vault_dask_gateway_api_token"):
        config.hub_services_config(CULL, None, {**GATEWAY, "api_token": "short"})


def test_servers_find_the_gateway_with_no_credentials_to_paste():
    traits = config.dask_gateway_spawner_config(
        GATEWAY, "10.0.0.5", 8000, "https://jovial.example.org/"
    )
    env = traits["environment"]
    assert env == {
        "DASK_GATEWAY__ADDRESS": "https://10.0.0.5:8000/services/dask-gateway",
        "DASK_GATEWAY__PROXY_ADDRESS": "tls://127.0.0.1:8786",
        "DASK_GATEWAY__PUBLIC_ADDRESS": "https://jovial.example.org/services/dask-gateway",
        "DASK_GATEWAY__AUTH__TYPE": "jupyterhub",
    }
    # The server's token keeps what JupyterHub gives it and may also reach the gateway.
    assert traits["server_token_scopes"] == [
        "users:activity!user",
        "access:servers!server",
        "access:services!service=dask-gateway",
    ]
