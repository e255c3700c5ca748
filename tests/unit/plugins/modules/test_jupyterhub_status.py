"""jupyterhub_status: the hub's REST API answers replayed from a real JupyterHub 6.1.1
(tests/fixtures/jupyterhub/README.md says how they were captured)."""

from __future__ import annotations

import http.server
import io
import json
import threading
from pathlib import Path
from urllib.error import HTTPError, URLError

import pytest
from ansible.module_utils.testing import patch_module_args

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "jupyterhub"
TOKEN = "verify-token-0123456789abcdef"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def status(load_plugin):
    return load_plugin("plugins/modules/jupyterhub_status.py")


class Response(io.BytesIO):
    """What open_url returns: a file-like body."""


class FakeHub:
    """Stands in for open_url: serves fixtures by URL path+query and records every call."""

    def __init__(self, routes):
        self.routes = routes
        self.calls = []

    def __call__(self, url, method, headers, timeout, validate_certs, ca_path):
        self.calls.append(
            {
                "url": url,
                "method": method,
                "headers": dict(headers),
                "validate_certs": validate_certs,
                "ca_path": ca_path,
            }
        )
        answer = self.routes[url]
        if isinstance(answer, Exception):
            raise answer
        return Response(answer)


def run(module, args, capsys, monkeypatch, hub):
    monkeypatch.setattr(module, "open_url", hub)
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        module.main()
    return json.loads(capsys.readouterr().out), exit_info.value.code


BASE = "https://jovial.lab.jovial.internal"
USERS = f"{BASE}/hub/api/users?offset=0&limit=200"


def test_version_users_and_running_servers(status, capsys, monkeypatch):
    hub = FakeHub({f"{BASE}/hub/api/": fixture("api_root.json"), USERS: fixture("users.json")})
    args = {"url": BASE + "/", "api_token": TOKEN, "ca_file": "/etc/ssl/jovial-ca.crt"}
    result, code = run(status, args, capsys, monkeypatch, hub)
    assert code == 0
    assert result["changed"] is False
    assert result["version"] == "6.1.1"
    assert (result["users"], result["admins"]) == (3, 1)
    assert (result["running_servers"], result["pending_servers"]) == (1, 0)
    assert result["running"] == ["jsoto/"]
    # The version check goes without the token; the users list with it, paginated, verified.
    assert hub.calls[0]["headers"] == {}
    assert hub.calls[1]["headers"] == {
        "Authorization": f"token {TOKEN}",
        "Accept": "application/jupyterhub-pagination+json",
    }
    assert all(c["method"] == "GET" for c in hub.calls)
    assert all(c["ca_path"] == "/etc/ssl/jovial-ca.crt" and c["validate_certs"] for c in hub.calls)
    assert TOKEN not in json.dumps(result)


def test_pagination_is_followed(status, capsys, monkeypatch):
    hub = FakeHub(
        {
            f"{BASE}/hub/api/": fixture("api_root.json"),
            USERS: fixture("users_page1.json"),
            f"{BASE}/hub/api/users?offset=2&limit=200": fixture("users_page2.json"),
        }
    )
    result, code = run(status, {"url": BASE, "api_token": TOKEN}, capsys, monkeypatch, hub)
    assert code == 0
    assert result["users"] == 3
    assert result["running"] == ["jsoto/"]
    assert len(hub.calls) == 3


def test_without_token_only_the_version(status, capsys, monkeypatch):
    hub = FakeHub({f"{BASE}/hub/api/": fixture("api_root.json")})
    result, code = run(status, {"url": f"{BASE}/hub/api"}, capsys, monkeypatch, hub)
    assert code == 0
    assert result["version"] == "6.1.1"
    assert result["users"] is None and result["running"] == []
    assert [c["url"] for c in hub.calls] == [f"{BASE}/hub/api/"]


def test_check_mode_reads_the_same(status, capsys, monkeypatch):
    hub = FakeHub({f"{BASE}/hub/api/": fixture("api_root.json"), USERS: fixture("users.json")})
    args = {"url": BASE, "api_token": TOKEN, "_ansible_check_mode": True}
    result, code = run(status, args, capsys, monkeypatch, hub)
    assert code == 0 and result["changed"] is False and result["running_servers"] == 1
    assert all(c["method"] == "GET" for c in hub.calls)


def test_bad_token_fails_with_the_hubs_message(status, capsys, monkeypatch):
    # The body JupyterHub 6.1.1 sends for a wrong token (see the fixtures' README).
    forbidden = HTTPError(
        USERS,
        403,
        "Forbidden",
        {},
        io.BytesIO(b'{"status": 403, "message": "Missing or invalid credentials."}'),
    )
    hub = FakeHub({f"{BASE}/hub/api/": fixture("api_root.json"), USERS: forbidden})
    result, code = run(status, {"url": BASE, "api_token": TOKEN}, capsys, monkeypatch, hub)
    assert code == 1
    assert result["failed"] is True
    assert result["msg"] == f"GET {USERS}: HTTP 403 Missing or invalid credentials."
    assert TOKEN not in json.dumps(result)


def test_unreachable_hub_fails_naming_the_url(status, capsys, monkeypatch):
    hub = FakeHub({f"{BASE}/hub/api/": URLError(ConnectionRefusedError(111, "Connection refused"))})
    result, code = run(status, {"url": BASE}, capsys, monkeypatch, hub)
    assert code == 1
    assert result["msg"] == f"GET {BASE}/hub/api/: [Errno 111] Connection refused"


def test_something_else_answering_fails(status, capsys, monkeypatch):
    hub = FakeHub({f"{BASE}/hub/api/": b"<html>nginx default page</html>"})
    result, code = run(status, {"url": BASE}, capsys, monkeypatch, hub)
    assert code == 1
    assert "not JSON" in result["msg"]
    hub = FakeHub({f"{BASE}/hub/api/": b'{"status": "ok"}'})
    result, code = run(status, {"url": BASE}, capsys, monkeypatch, hub)
    assert code == 1
    assert "not a JupyterHub API root response" in result["msg"]


def test_real_http_against_a_local_server(status, capsys):
    """No patching: ansible's real open_url against a local HTTP server replaying the
    captured answers, and refusing a wrong token as the hub does."""

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            if self.path == "/hub/api/":
                body, code = fixture("api_root.json"), 200
            elif self.headers.get("Authorization") != f"token {TOKEN}":
                body, code = b'{"status": 403, "message": "Missing or invalid credentials."}', 403
            else:
                body, code = fixture("users.json"), 200
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    results = {}
    try:
        for token in (TOKEN, "wrong"):
            with (
                patch_module_args({"url": url, "api_token": token}),
                pytest.raises(SystemExit) as e,
            ):
                status.main()
            results[token] = (e.value.code, json.loads(capsys.readouterr().out))
    finally:
        server.shutdown()
        server.server_close()
    code, good = results[TOKEN]
    assert code == 0, good
    assert good["version"] == "6.1.1"
    assert (good["users"], good["admins"], good["running"]) == (3, 1, ["jsoto/"])
    code, refused = results["wrong"]
    assert code == 1 and refused["failed"] is True
    assert refused["msg"] == (
        f"GET {url}/hub/api/users?offset=0&limit=200: HTTP 403 Missing or invalid credentials."
    )
    assert "wrong" not in json.dumps(refused)
    assert seen == [
        ("/hub/api/", None),
        ("/hub/api/users?offset=0&limit=200", f"token {TOKEN}"),
        ("/hub/api/", None),
        ("/hub/api/users?offset=0&limit=200", "token wrong"),
    ]
