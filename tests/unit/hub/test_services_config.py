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
