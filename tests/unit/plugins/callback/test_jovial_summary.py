"""The summary callback is what `make lab` prints per layer and what the benchmarks read."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

_PATH = Path(__file__).resolve().parents[4] / "plugins" / "callback" / "jovial_summary.py"
_spec = importlib.util.spec_from_file_location("jovial_callback_summary", _PATH)
summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(summary)


class _Play:
    def __init__(self, name: str) -> None:
        self._name = name

    def get_name(self) -> str:
        return self._name


def _task(role: str | None, delegate_to: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        _role=SimpleNamespace(get_name=lambda: role) if role else None,
        delegate_to=delegate_to,
    )


def _result(host: str, task: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(_host=SimpleNamespace(get_name=lambda: host), _task=task, _result={})


class _Stats:
    def __init__(self) -> None:
        self.processed = {"core1": 1, "core2": 1}

    def summarize(self, host: str) -> dict[str, int]:
        return {"ok": 3, "changed": 1 if host == "core1" else 0, "failures": 0}


def test_run_is_written_with_layers_hosts_roles_and_stats(tmp_path, monkeypatch):
    out = tmp_path / "run.json"
    monkeypatch.setenv("JOVIAL_SUMMARY_FILE", str(out))
    cb = summary.CallbackModule()

    cb.v2_playbook_on_play_start(_Play("Site CA | on the control node"))
    ca_task = _task("site_ca", delegate_to="localhost")
    cb.v2_playbook_on_task_start(ca_task, False)
    cb.v2_runner_on_ok(_result("core1", ca_task))

    cb.v2_playbook_on_play_start(_Play("Common | Base OS"))
    task = _task("common")
    cb.v2_playbook_on_task_start(task, False)
    cb.v2_runner_on_ok(_result("core2", task))
    cb.v2_runner_on_failed(_result("core1", task))
    cb.v2_playbook_on_stats(_Stats())

    run = json.loads(out.read_text())
    assert [p["name"] for p in run["plays"]] == [
        "Site CA | on the control node",
        "Common | Base OS",
    ]
    # A delegated task ran on the control node, not on the host it was queued for.
    assert run["plays"][0]["hosts"] == ["localhost"]
    assert run["plays"][1]["hosts"] == ["core1", "core2"]
    assert all(p["elapsed"] is not None and p["elapsed"] >= 0 for p in run["plays"])
    assert set(run["roles"]) == {"site_ca", "common"}
    assert run["stats"]["core1"]["changed"] == 1
    assert run["stats"]["core2"]["changed"] == 0


def test_nothing_is_written_without_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("JOVIAL_SUMMARY_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    cb = summary.CallbackModule()
    cb.v2_playbook_on_play_start(_Play("p"))
    cb.v2_playbook_on_stats(_Stats())
    assert list(tmp_path.iterdir()) == []
