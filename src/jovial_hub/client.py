"""A user's HTTP client for a Jovial hub, as a browser behaves: log in with the form (cookies
and XSRF), start the default server through the REST API, wait until it is ready, open it
through the hub's OAuth redirects, run code in a kernel over its websocket, stop it.

Used by the Molecule ``jupyterhub`` scenario and by ``tests/bench/bench_hub_spawn.py``
against a real hub behind the front door. TLS is always verified against ``ca_file`` only:
the environment's proxy and CA settings are ignored (``trust_env`` off), so a
``REQUESTS_CA_BUNDLE`` on the test machine cannot hide a certificate problem.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import requests
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

__all__ = ["HubClient", "HubError"]


class HubError(Exception):
    """The hub refused or did not answer as a hub does; the message says which step."""


class HubClient:
    """One user's session with the hub at ``base_url`` (e.g. ``https://10.77.0.100``)."""

    def __init__(self, base_url: str, ca_file: str, timeout: float = 60) -> None:
        self.base = base_url.rstrip("/")
        # The hub's path behind the front door ("" for the default hub, "/science" for
        # https://<front door>/science/): the cookies' paths start with it.
        self.prefix = urlsplit(self.base).path
        self.timeout = timeout
        self.user: str | None = None
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = ca_file

    # --- login --------------------------------------------------------------------------------
    def login(self, user: str, password: str, start: bool = True) -> requests.Response:
        """Post the login form as a browser does; return the final response (200 and a
        session cookie on success, 403 with the login error on a wrong password).

        Like a browser, the hub's redirect after login (to /hub/spawn) starts the user's
        default server when none runs; with ``start=False`` the form asks to go to /hub/home
        instead (``next``), so that logging in starts nothing."""
        page = self.session.get(f"{self.base}/hub/login", timeout=self.timeout)
        if page.status_code != 200:
            raise HubError(f"GET /hub/login answered {page.status_code}")
        xsrf = self.session.cookies.get("_xsrf", path=f"{self.prefix}/hub/")
        if not xsrf:
            raise HubError("the login page did not set an _xsrf cookie")
        resp = self.session.post(
            f"{self.base}/hub/login",
            data={
                "username": user,
                "password": password,
                "_xsrf": xsrf,
                **({} if start else {"next": f"{self.prefix}/hub/home"}),
            },
            timeout=self.timeout,
        )
        if resp.status_code == 200 and "jupyterhub-session-id" in self.session.cookies:
            self.user = user
        return resp

    def _user(self) -> str:
        if self.user is None:
            raise HubError("not logged in: call login() first")
        return self.user

    def _hub_headers(self) -> dict[str, str]:
        return {"X-XSRFToken": self.session.cookies.get("_xsrf", path=f"{self.prefix}/hub/") or ""}

    # --- the user's default server ----------------------------------------------------------
    def start_server(self, options: dict[str, Any] | None = None) -> int:
        """Ask for the default server; the HTTP status (201 started, 202 pending, 400 already
        running)."""
        resp = self.session.post(
            f"{self.base}/hub/api/users/{self._user()}/server",
            headers=self._hub_headers(),
            json=options or {},
            timeout=self.timeout,
        )
        if resp.status_code not in (201, 202, 400):
            raise HubError(f"starting {self.user}'s server: {resp.status_code} {resp.text[:300]}")
        return resp.status_code

    def server(self) -> dict[str, Any] | None:
        """The default server's model from the REST API (None when it is not running)."""
        resp = self.session.get(
            f"{self.base}/hub/api/users/{self._user()}",
            headers=self._hub_headers(),
            timeout=self.timeout,
        )
        if resp.status_code != 200:
            raise HubError(f"reading {self.user}'s model: {resp.status_code} {resp.text[:300]}")
        return (resp.json().get("servers") or {}).get("")

    def wait_ready(self, timeout: float, interval: float = 0.5) -> bool:
        """Poll until the default server is ready (True) or ``timeout`` seconds pass (False).
        A server that stops while starting (spawn failure) ends the wait early (False)."""
        deadline = time.monotonic() + timeout
        seen_pending = False
        while time.monotonic() < deadline:
            model = self.server()
            if model and model.get("ready"):
                return True
            if model and model.get("pending"):
                seen_pending = True
            elif seen_pending and not model:
                return False  # it was starting and is gone: the spawn failed
            time.sleep(interval)
        return False

    def open_server(self, path: str = "lab") -> str:
        """Open the server's page through the hub's OAuth redirects, then its API; return the
        server's XSRF token (needed to start kernels)."""
        user = self._user()
        page = self.session.get(f"{self.base}/user/{user}/{path}", timeout=self.timeout)
        if page.status_code != 200:
            raise HubError(f"opening /user/{user}/{path}: {page.status_code} at {page.url}")
        status = self.session.get(f"{self.base}/user/{user}/api/status", timeout=self.timeout)
        if status.status_code != 200:
            raise HubError(f"/user/{user}/api/status answered {status.status_code}")
        xsrf = self.session.cookies.get("_xsrf", path=f"{self.prefix}/user/{user}/")
        if not xsrf:
            raise HubError(f"{user}'s server did not set an _xsrf cookie")
        return xsrf

    # --- the user's files, through their server (Jupyter's contents API) --------------------
    def write_file(self, path: str, text: str, xsrf: str) -> None:
        """Save a text file at ``path`` (relative to the server's root, the user's home) as
        the notebook's editor does; ``xsrf`` is open_server()'s token."""
        user = self._user()
        resp = self.session.put(
            f"{self.base}/user/{user}/api/contents/{path}",
            headers={"X-XSRFToken": xsrf},
            json={"type": "file", "format": "text", "content": text},
            timeout=self.timeout,
        )
        if resp.status_code not in (200, 201):
            raise HubError(f"saving {path} as {user}: {resp.status_code} {resp.text[:300]}")

    def read_file(self, path: str) -> str | None:
        """The text of the file at ``path`` in the user's server, None when it does not exist."""
        user = self._user()
        resp = self.session.get(
            f"{self.base}/user/{user}/api/contents/{path}", timeout=self.timeout
        )
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise HubError(f"reading {path} as {user}: {resp.status_code} {resp.text[:300]}")
        return resp.json()["content"]

    # --- code in a kernel, as the notebook runs it -------------------------------------------
    def execute(self, xsrf: str, code: str, timeout: float = 60) -> str:
        """Start a python3 kernel in the user's server, run ``code`` in it over the kernel's
        websocket (through the front door, with the session's cookies), shut the kernel down
        and return what it printed. A kernel error raises HubError with the traceback's
        name and value."""
        kid = self.start_kernel(xsrf)
        try:
            return self.run(kid, code, timeout)
        finally:
            self.stop_kernel(xsrf, kid)

    def start_kernel(self, xsrf: str) -> str:
        """Start a python3 kernel in the user's server; its id (for :meth:`run`, which keeps
        the kernel's state between calls, and :meth:`stop_kernel`)."""
        user = self._user()
        kernel = self.session.post(
            f"{self.base}/user/{user}/api/kernels",
            headers={"X-XSRFToken": xsrf},
            json={"name": "python3"},
            timeout=self.timeout,
        )
        if kernel.status_code != 201:
            raise HubError(f"starting a kernel as {user}: {kernel.status_code} {kernel.text[:300]}")
        return str(kernel.json()["id"])

    def run(self, kid: str, code: str, timeout: float = 60) -> str:
        """Run ``code`` in kernel ``kid``; what it printed (HubError on a kernel error)."""
        return asyncio.run(self._execute(kid, code, timeout))

    def stop_kernel(self, xsrf: str, kid: str) -> None:
        self.session.delete(
            f"{self.base}/user/{self._user()}/api/kernels/{kid}",
            headers={"X-XSRFToken": xsrf},
            timeout=self.timeout,
        )

    async def _execute(self, kid: str, code: str, timeout: float) -> str:
        url = urlsplit(self.base)
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        ws = await websocket_connect(
            HTTPRequest(
                f"wss://{url.netloc}{url.path}/user/{self.user}/api/kernels/{kid}/channels",
                headers={"Cookie": cookie},
                ca_certs=self.session.verify,
            )
        )
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "username": self.user,
            "session": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "version": "5.3",
        }
        content = {"code": code, "silent": False, "store_history": False}
        await ws.write_message(
            json.dumps(
                {
                    "header": header,
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        # The reply (shell channel) and the printed output (iopub) travel separately and the
        # reply may come first: the output is complete once iopub says the kernel is idle
        # again after this request, and both have arrived.
        output: list[str] = []
        replied = idle = False
        try:
            while not (replied and idle):
                raw = await asyncio.wait_for(ws.read_message(), timeout=timeout)
                if raw is None:
                    raise HubError("the kernel's websocket closed before the reply")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    output.append(msg["content"]["text"])
                elif msg["msg_type"] == "error":
                    raise HubError(
                        f"kernel error: {msg['content']['ename']}: {msg['content']['evalue']}"
                    )
                elif msg["msg_type"] == "execute_reply":
                    replied = True
                elif msg["msg_type"] == "status":
                    idle = msg["content"].get("execution_state") == "idle"
            return "".join(output)
        finally:
            ws.close()

    def stop_server(self) -> int:
        """Ask the hub to stop the default server; the HTTP status (202 pending, 204 done)."""
        resp = self.session.delete(
            f"{self.base}/hub/api/users/{self._user()}/server",
            headers=self._hub_headers(),
            timeout=self.timeout,
        )
        if resp.status_code not in (202, 204, 400):
            raise HubError(f"stopping {self.user}'s server: {resp.status_code} {resp.text[:300]}")
        return resp.status_code
