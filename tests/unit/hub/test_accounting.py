"""The accounting ledger: one row per server lifetime in a WAL SQLite file."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from jovial_hub.accounting import Ledger, make_hooks


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(tmp_path, clock) -> Ledger:
    return Ledger(tmp_path / "accounting.sqlite", clock=clock)


def test_database_uses_wal(ledger):
    assert ledger.journal_mode() == "wal"


def test_start_then_stop_fills_one_row(ledger, clock):
    row = ledger.start(
        "jsoto", groups=["survey-gal"], profile="large", resources={"limits": {"cpu": "4"}}
    )
    clock.now += 3600.5
    assert ledger.stop("jsoto") == row
    (record,) = ledger.records()
    assert record.user == "jsoto"
    assert record.server == ""
    assert record.groups == ("survey-gal",)
    assert record.profile == "large"
    assert record.resources == {"limits": {"cpu": "4"}}
    assert record.started == 1_700_000_000.0
    assert record.stopped == 1_700_003_600.5
    assert record.duration == 3600.5


def test_rows_survive_a_new_ledger_on_the_same_file(tmp_path, clock):
    path = tmp_path / "accounting.sqlite"
    Ledger(path, clock=clock).start("jsoto")
    # The hub restarts: a new process opens the same file and records the stop.
    clock.now += 60
    assert Ledger(path, clock=clock).stop("jsoto") is not None
    rows = sqlite3.connect(path).execute("SELECT user, duration FROM servers").fetchall()
    assert rows == [("jsoto", 60.0)]


def test_named_servers_are_separate_lifetimes(ledger, clock):
    ledger.start("jsoto", server="")
    ledger.start("jsoto", server="gpu")
    clock.now += 10
    ledger.stop("jsoto", server="gpu")
    by_server = {r.server: r for r in ledger.records("jsoto")}
    assert by_server["gpu"].duration == 10
    assert by_server[""].stopped is None


def test_stop_without_start_records_nothing(ledger):
    assert ledger.stop("lvega") is None
    assert ledger.records() == []


def test_a_start_closes_a_row_left_open_by_a_crash(ledger, clock):
    ledger.start("jsoto")
    clock.now += 100
    ledger.start("jsoto")
    first, second = ledger.records()
    assert first.stopped == clock.now and first.duration == 100
    assert second.stopped is None


def test_records_of_one_user(ledger):
    ledger.start("jsoto")
    ledger.start("lvega")
    assert [r.user for r in ledger.records("lvega")] == ["lvega"]


def test_hooks_record_what_the_spawner_says(ledger, clock):
    pre_spawn, post_stop = make_hooks(
        ledger,
        groups=lambda s: ["survey-var"],
        resources=lambda s: {"limits": {"memory": "4Gi"}},
    )
    spawner = SimpleNamespace(
        user=SimpleNamespace(name="lvega"), name="", user_options={"profile": "small"}
    )
    pre_spawn(spawner)
    clock.now += 5
    post_stop(spawner)
    (record,) = ledger.records()
    assert (record.user, record.groups, record.profile, record.duration) == (
        "lvega",
        ("survey-var",),
        "small",
        5.0,
    )
    assert record.resources == {"limits": {"memory": "4Gi"}}


def test_discard_removes_only_the_open_start_of_that_server(ledger, clock):
    """A start whose pod was never made is dropped; the user's finished servers and other
    users' open ones stay."""
    done = ledger.start("jsoto", profile="small")
    clock.now += 60
    ledger.stop("jsoto")
    other = ledger.start("lvega", profile="small")
    refused = ledger.start("jsoto", profile="large")
    assert ledger.discard("jsoto") == refused
    assert ledger.discard("jsoto") is None  # nothing open any more
    assert [(r.id, r.user, r.stopped is None) for r in ledger.records()] == [
        (done, "jsoto", False),
        (other, "lvega", True),
    ]
