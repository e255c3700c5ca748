"""The health report is what an operator opens after `make lab-verify`: failing checks first,
every node on the topology with its state, every layer with its state lines."""

from __future__ import annotations

import importlib.util
import json
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

_PATH = Path(__file__).resolve().parents[4] / "plugins" / "callback" / "jovial_health.py"
_spec = importlib.util.spec_from_file_location("jovial_callback_health", _PATH)
health = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(health)

GROUPS = {
    "all": ["core1", "core2", "edge1", "edge2"],
    "etcd": ["core1", "core2"],
    "proxy": ["edge1", "edge2"],
    "ungrouped": [],
}


class _Host:
    def __init__(self, name: str) -> None:
        self._name = name

    def get_name(self) -> str:
        return self._name


class _Play:
    def __init__(self, name: str) -> None:
        self._name = name
        groups = {
            g: SimpleNamespace(get_hosts=lambda hs=hs: [_Host(h) for h in hs])
            for g, hs in GROUPS.items()
        }
        inventory = SimpleNamespace(groups=groups, _sources=["/site/inventories/lab"])
        self._vm = SimpleNamespace(_inventory=inventory)

    def get_name(self) -> str:
        return self._name

    def get_variable_manager(self):
        return self._vm


def _result(host: str, task: str, data: dict, action: str = "command") -> SimpleNamespace:
    return SimpleNamespace(
        _host=_Host(host),
        _task=SimpleNamespace(get_name=lambda: task, action=action),
        _result=data,
    )


def _run(cb) -> None:
    """A verify run: the front door with nginx stopped on edge2, then a healthy etcd."""
    cb.v2_playbook_on_play_start(_Play("Verify | Front door"))
    cb.v2_runner_on_ok(_result("edge1", "Verify | nginx and keepalived are running", {}))
    cb.v2_runner_on_failed(
        _result(
            "edge2",
            "Verify | nginx and keepalived are running",
            {"msg": "edge2: nginx is inactive; systemctl start nginx"},
        )
    )
    cb.v2_runner_on_ok(
        _result(
            "edge1",
            "Verify | Front door report",
            {"msg": "edge1: VIP 10.77.0.100 HELD here"},
            action="ansible.builtin.debug",
        )
    )
    cb.v2_playbook_on_play_start(_Play("Verify | etcd"))
    for host in ("core1", "core2"):
        cb.v2_runner_on_ok(_result(host, "verify | Cluster health", {}))
    cb.v2_runner_on_ok(
        _result(
            "core1",
            "verify | Report",
            {"msg": ["leader core2", "hashkv equal on 2 members"]},
            action="debug",
        )
    )
    cb.v2_runner_on_failed(
        _result(
            "core2",
            "verify | Certificates per item",
            {
                "msg": "One or more items failed",
                "results": [
                    {"item": "peer.crt", "failed": False},
                    {"_ansible_item_label": "server.crt", "failed": True, "msg": "3 days left"},
                ],
            },
        ),
        ignore_errors=True,
    )


def _write(tmp_path, monkeypatch) -> tuple[dict, str]:
    monkeypatch.setenv("JOVIAL_HEALTH_REPORT", str(tmp_path / "out" / "verify"))
    cb = health.CallbackModule()
    _run(cb)
    cb.v2_playbook_on_stats(None)
    report = json.loads((tmp_path / "out" / "verify.json").read_text())
    return report, (tmp_path / "out" / "verify.html").read_text()


def test_a_stopped_service_is_listed_first_with_its_node_and_message(tmp_path, monkeypatch):
    report, _ = _write(tmp_path, monkeypatch)
    assert report["inventory"] == "lab"
    assert report["summary"] == {
        "healthy": False,
        "checks": 5,
        "failing": 1,
        "nodes": 4,
        "nodes_failing": 1,
    }
    assert report["failing"] == [
        {
            "layer": "Verify | Front door",
            "task": "Verify | nginx and keepalived are running",
            "host": "edge2",
            "state": "failed",
            "message": "edge2: nginx is inactive; systemctl start nginx",
        }
    ]
    assert [layer["name"] for layer in report["layers"]] == ["Verify | Front door", "Verify | etcd"]
    assert report["hosts"] == {"core1": "ok", "core2": "ok", "edge1": "ok", "edge2": "failed"}


def test_state_lines_of_report_tasks_are_kept_per_node(tmp_path, monkeypatch):
    report, _ = _write(tmp_path, monkeypatch)
    etcd = next(layer for layer in report["layers"] if layer["name"] == "Verify | etcd")
    core1 = next(node for node in etcd["nodes"] if node["host"] == "core1")
    assert core1["lines"] == ["leader core2", "hashkv equal on 2 members"]
    assert core1["passed"] == 1


class _Page(HTMLParser):
    """Text of the failing table's rows and the topology's node titles."""

    def __init__(self) -> None:
        super().__init__()
        self.in_failing = False
        self.in_title = False
        self.failing_text: list[str] = []
        self.titles: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag == "table" and ("id", "failing") in attrs:
            self.in_failing = True
        self.in_title = tag == "title"
        self.scripts += tag == "script"

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_failing = False
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_failing:
            self.failing_text.append(data)
        if self.in_title:
            self.titles.append(data)


def test_the_page_shows_the_failure_first_and_every_node_on_the_topology(tmp_path, monkeypatch):
    _, page = _write(tmp_path, monkeypatch)
    parsed = _Page()
    parsed.feed(page)
    assert parsed.scripts == 0
    assert "edge2: nginx is inactive; systemctl start nginx" in parsed.failing_text
    assert page.index("id='failing'") < page.index("<h2>Topology</h2>")
    # The page's <title>, then one per node drawn (etcd, proxy groups of the inventory).
    assert parsed.titles[0].startswith("Jovial health: lab: 1 failing check(s)")
    assert sorted(parsed.titles[1:]) == [
        "core1: ok",
        "core2: ok",
        "edge1: ok",
        "edge2: failed",
    ]


def test_an_ignored_failure_counts_as_passed_and_names_no_failure(tmp_path, monkeypatch):
    report, _ = _write(tmp_path, monkeypatch)
    assert not [f for f in report["failing"] if f["host"] == "core2"]


def test_failed_loop_items_are_named_in_the_message():
    cb = health.CallbackModule.__new__(health.CallbackModule)
    cb._target, cb._plays, cb._groups, cb._inventory = "x", [], {}, ""
    cb.v2_playbook_on_play_start(_Play("Verify | certs"))
    cb.v2_runner_on_failed(
        _result(
            "core2",
            "certs",
            {
                "msg": "One or more items failed",
                "results": [{"item": "server.crt", "failed": True, "msg": "expires in 3 days"}],
            },
        )
    )
    assert cb._plays[0]["checks"][0]["message"] == "server.crt: expires in 3 days"


@pytest.mark.parametrize("value", ["", None])
def test_without_the_variable_nothing_is_recorded_or_written(tmp_path, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("JOVIAL_HEALTH_REPORT", raising=False)
    else:
        monkeypatch.setenv("JOVIAL_HEALTH_REPORT", value)
    monkeypatch.chdir(tmp_path)
    cb = health.CallbackModule()
    _run(cb)
    cb.v2_playbook_on_stats(None)
    assert cb._plays == []
    assert list(tmp_path.iterdir()) == []
