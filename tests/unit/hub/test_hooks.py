"""The systemd backend's spawn hooks run off the hub's event loop (jovial_hub.hooks)."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest

from jovial_hub import hooks
from jovial_hub.accounting import Ledger, make_hooks
from jovial_hub.homes import HomeError


def spawner(name: str = "ada") -> SimpleNamespace:
    return SimpleNamespace(user=SimpleNamespace(name=name), name="", user_options={})


def test_hooks_run_in_order_outside_the_event_loop_thread() -> None:
    seen: list[tuple[str, str, bool]] = []

    def first(s: SimpleNamespace) -> None:
        seen.append(("first", s.user.name, threading.current_thread() is threading.main_thread()))

    def second(s: SimpleNamespace) -> None:
        seen.append(("second", s.user.name, threading.current_thread() is threading.main_thread()))

    asyncio.run(hooks.threaded(first, second)(spawner()))
    assert seen == [("first", "ada", False), ("second", "ada", False)]


def test_the_event_loop_serves_others_while_a_hook_blocks() -> None:
    """A hook that blocks until the loop has done other work: were it run on the loop, the
    loop could never do that work and the hook would wait for ever (here: time out)."""
    served = threading.Event()

    def blocking_hook(_: SimpleNamespace) -> None:
        if not served.wait(timeout=10):
            raise AssertionError("the event loop was blocked while the hook ran")

    async def other_request() -> None:
        await asyncio.sleep(0)
        served.set()

    async def main() -> None:
        await asyncio.gather(hooks.threaded(blocking_hook)(spawner()), other_request())

    asyncio.run(main())
    assert served.is_set()


def test_a_refused_home_fails_the_spawn_and_records_nothing(tmp_path) -> None:
    ledger = Ledger(tmp_path / "accounting.sqlite")
    record_start, _ = make_hooks(ledger)

    def refuse(s: SimpleNamespace) -> None:
        raise HomeError(f"user {s.user.name!r} has home '/etc', outside '/home'")

    with pytest.raises(HomeError, match="outside '/home'"):
        asyncio.run(hooks.threaded(refuse, record_start)(spawner("eve")))
    assert ledger.records() == []


def test_start_and_stop_are_recorded_through_the_threaded_hooks(tmp_path) -> None:
    ledger = Ledger(tmp_path / "accounting.sqlite")
    record_start, record_stop = make_hooks(ledger)
    asyncio.run(hooks.threaded(record_start)(spawner("ada")))
    asyncio.run(hooks.threaded(record_stop)(spawner("ada")))
    (record,) = ledger.records("ada")
    assert record.user == "ada"
    assert record.stopped is not None


def test_no_hooks_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one hook"):
        hooks.threaded()
