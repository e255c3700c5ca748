"""Pure helpers of jupyterhub_status, on responses captured from JupyterHub 6.1.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils.jupyterhub_api import api_url, parse_version, summarize_users, users_page

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "jupyterhub"


def load(name):
    return json.loads((FIXTURES / name).read_text())


@pytest.mark.parametrize(
    "base",
    [
        "https://hub.example.org",
        "https://hub.example.org/",
        "https://hub.example.org/hub",
        "https://hub.example.org/hub/api/",
    ],
)
def test_api_url(base):
    assert api_url(base) == "https://hub.example.org/hub/api/"
    assert api_url(base, "users", {"offset": 0, "limit": 200}) == (
        "https://hub.example.org/hub/api/users?offset=0&limit=200"
    )


def test_parse_version():
    assert parse_version(load("api_root.json")) == "6.1.1"
    with pytest.raises(ValueError, match="no version"):
        parse_version({"status": "ok"})


def test_users_page_shapes():
    users, following = users_page(load("users_page1.json"))
    assert [u["name"] for u in users] == ["mperez", "jsoto"] and following == 2
    users, following = users_page(load("users_page2.json"))
    assert [u["name"] for u in users] == ["lvega"] and following is None
    users, following = users_page(load("users.json"))
    assert len(users) == 3 and following is None
    with pytest.raises(ValueError, match="not a JupyterHub users response"):
        users_page({"message": "nope"})


def test_summarize_users():
    summary = summarize_users(load("users.json"))
    assert summary == {
        "users": 3,
        "admins": 1,
        "running_servers": 1,
        "pending_servers": 0,
        "running": ["jsoto/"],
        "pending": [],
    }


def test_pending_and_named_servers():
    users = load("users.json")
    jsoto = next(u for u in users if u["name"] == "jsoto")
    jsoto["servers"]["gpu"] = {
        **jsoto["servers"][""],
        "name": "gpu",
        "ready": False,
        "pending": "spawn",
    }
    summary = summarize_users(users)
    assert summary["running"] == ["jsoto/"]
    assert summary["pending"] == ["jsoto/gpu (spawn)"]
