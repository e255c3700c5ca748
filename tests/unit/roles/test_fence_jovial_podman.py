"""The lab fence agent (roles/ha_cluster/files/fence_jovial_podman) against a fake podman API.

The fake speaks the few libpod endpoints the agent uses over a real unix socket and keeps the
containers' state, so each test checks what the agent did to the "host", through the same
stdin/argv protocol pacemaker-fenced uses.
"""

from __future__ import annotations

import http.server
import json
import socketserver
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

AGENT = (
    Path(__file__).resolve().parents[3] / "roles" / "ha_cluster" / "files" / "fence_jovial_podman"
)


class FakePodman(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, containers: dict[str, bool]) -> None:
        self.containers = containers
        self.calls: list[str] = []
        super().__init__(path, Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    server: FakePodman

    def address_string(self) -> str:  # unix sockets have no client address
        return "fake"

    def log_message(self, *args) -> None:
        pass

    def _reply(self, status: int, body: object = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _name(self) -> str | None:
        parts = self.path.split("?")[0].split("/")
        return parts[4] if len(parts) > 4 else None

    def do_GET(self) -> None:
        self.server.calls.append(f"GET {self.path}")
        if self.path == "/_ping":
            return self._reply(200, "OK")
        if self.path.startswith("/v4.0.0/libpod/containers/json"):
            return self._reply(200, [{"Names": [n]} for n in self.server.containers])
        name = self._name()
        if name not in self.server.containers:
            return self._reply(404, {"message": "no such container"})
        return self._reply(200, {"State": {"Running": self.server.containers[name]}})

    def do_POST(self) -> None:
        self.server.calls.append(f"POST {self.path}")
        name = self._name()
        if name not in self.server.containers:
            return self._reply(404, {"message": "no such container"})
        if "/kill" in self.path:
            if not self.server.containers[name]:
                return self._reply(500, {"cause": "container state improper"})
            self.server.containers[name] = False
            return self._reply(204)
        if self.path.endswith("/start"):
            was = self.server.containers[name]
            self.server.containers[name] = True
            return self._reply(304 if was else 204)
        return self._reply(404)


@pytest.fixture
def podman(tmp_path):
    server = FakePodman(str(tmp_path / "podman.sock"), {"mds1": True, "mds2": True})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run(args: list[str] | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(AGENT), *(args or [])],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_metadata_is_fence_agent_xml_with_the_actions_pacemaker_needs():
    out = run(["-o", "metadata"])
    assert out.returncode == 0
    root = ET.fromstring(out.stdout)
    assert root.get("name") == "fence_jovial_podman"
    actions = {a.get("name") for a in root.iter("action")}
    assert {"on", "off", "reboot", "status", "monitor", "list", "metadata"} <= actions
    params = {p.get("name") for p in root.iter("parameter")}
    assert {"plug", "port", "socket", "action"} <= params


def test_off_from_stdin_kills_the_container_and_status_then_says_off(podman):
    sock = podman.server_address
    out = run(stdin=f"action=off\nport=mds1\nsocket={sock}\nnodename=mds1\n")
    assert out.returncode == 0, out.stderr
    assert podman.containers == {"mds1": False, "mds2": True}
    assert any("/containers/mds1/kill?signal=SIGKILL" in c for c in podman.calls)
    status = run(["-o", "status", "-n", "mds1", "-s", sock])
    assert status.returncode == 2
    assert run(["-o", "status", "-n", "mds2", "-s", sock]).returncode == 0


def test_reboot_of_a_stopped_node_starts_it_without_killing(podman):
    podman.containers["mds1"] = False
    out = run(["-o", "reboot", "-n", "mds1", "-s", podman.server_address])
    assert out.returncode == 0, out.stderr
    assert podman.containers["mds1"] is True
    assert not any("/kill" in c for c in podman.calls)


def test_reboot_of_a_running_node_kills_then_starts_it(podman):
    out = run(["-o", "reboot", "-n", "mds2", "-s", podman.server_address])
    assert out.returncode == 0, out.stderr
    posts = [c for c in podman.calls if c.startswith("POST")]
    assert [p.split("?")[0].rsplit("/", 1)[1] for p in posts] == ["kill", "start"]
    assert podman.containers["mds2"] is True


def test_list_and_monitor(podman):
    out = run(["-o", "list", "-s", podman.server_address])
    assert out.stdout.splitlines() == ["mds1,mds1", "mds2,mds2"]
    assert run(["-o", "monitor", "-s", podman.server_address]).returncode == 0


def test_unknown_container_and_missing_plug_are_errors(podman):
    out = run(["-o", "off", "-n", "nope", "-s", podman.server_address])
    assert out.returncode == 1 and "no container named 'nope'" in out.stderr
    out = run(stdin=f"action=off\nsocket={podman.server_address}\n")
    assert out.returncode == 1 and "needs plug" in out.stderr


def test_unreachable_api_is_an_error_not_a_success(tmp_path):
    out = run(["-o", "status", "-n", "mds1", "-s", str(tmp_path / "none.sock")])
    assert out.returncode == 1 and "unreachable" in out.stderr
