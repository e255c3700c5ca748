"""HubClient.run, the tests' and benchmarks' way to run code in a user's kernel: what the code
printed is returned whole, whichever of the kernel's two channels answers first. The shell
channel's execute_reply may overtake the iopub channel's output on the websocket; returning at
the reply lost the output (seen once in Molecule jupyterhub: an empty result from a kernel
that had printed). The websocket here is a stand-in that replays a kernel's messages in a
given order; the real kernel path runs in Molecule and the lab."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jovial_hub import client as client_module
from jovial_hub.client import HubClient, HubError


class Replay:
    """A kernel's websocket: takes the execute_request, then answers with ``messages``
    (msg_type, content), each addressed to that request, plus one for another request."""

    def __init__(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        self.messages = messages
        self.queue: list[str] = []
        self.closed = False

    async def write_message(self, raw: str) -> None:
        request = json.loads(raw)["header"]["msg_id"]
        self.queue.append(
            json.dumps(
                {
                    "msg_type": "stream",
                    "parent_header": {"msg_id": "another-request"},
                    "content": {"text": "not ours\n"},
                }
            )
        )
        for msg_type, content in self.messages:
            self.queue.append(
                json.dumps(
                    {"msg_type": msg_type, "parent_header": {"msg_id": request}, "content": content}
                )
            )

    async def read_message(self) -> str | None:
        return self.queue.pop(0) if self.queue else None

    def close(self) -> None:
        self.closed = True


BUSY = ("status", {"execution_state": "busy"})
IDLE = ("status", {"execution_state": "idle"})
REPLY = ("execute_reply", {"status": "ok"})
PRINTED = [("stream", {"name": "stdout", "text": "[10001, "}), ("stream", {"text": "10100]\n"})]


@pytest.mark.parametrize(
    "order",
    [
        pytest.param([BUSY, *PRINTED, IDLE, REPLY], id="output-then-reply"),
        pytest.param([BUSY, REPLY, *PRINTED, IDLE], id="reply-overtakes-output"),
        pytest.param([BUSY, PRINTED[0], REPLY, PRINTED[1], IDLE], id="reply-between-outputs"),
    ],
)
def test_what_the_code_printed_comes_back_whole(monkeypatch, order):
    sockets: list[Replay] = []

    async def connect(request: Any) -> Replay:
        sockets.append(Replay(order))
        return sockets[-1]

    monkeypatch.setattr(client_module, "websocket_connect", connect)
    hub = HubClient("https://front.example/science", "/dev/null")
    hub.user = "ada"
    assert hub.run("k1", "print(...)") == "[10001, 10100]\n"
    assert sockets[0].closed


def test_a_kernel_error_is_raised_with_its_name_and_value(monkeypatch):
    async def connect(request: Any) -> Replay:
        return Replay([BUSY, ("error", {"ename": "PermissionError", "evalue": "/lustre"}), IDLE])

    monkeypatch.setattr(client_module, "websocket_connect", connect)
    hub = HubClient("https://front.example", "/dev/null")
    hub.user = "ada"
    with pytest.raises(HubError, match="kernel error: PermissionError: /lustre"):
        hub.run("k1", "open('/lustre')")


def test_a_closed_websocket_before_the_reply_is_an_error(monkeypatch):
    async def connect(request: Any) -> Replay:
        return Replay([BUSY, *PRINTED])

    monkeypatch.setattr(client_module, "websocket_connect", connect)
    hub = HubClient("https://front.example", "/dev/null")
    hub.user = "ada"
    with pytest.raises(HubError, match="closed before the reply"):
        hub.run("k1", "print(1)")
