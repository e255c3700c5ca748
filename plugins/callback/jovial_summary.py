"""Record how long each play (layer) and each role took, and on which hosts.

Enabled through ansible.cfg. When JOVIAL_SUMMARY_FILE is set, the run is written there as
JSON (`make lab` prints it as the per-layer summary; tests/bench/ reads it for timings):

    {"elapsed": s, "plays": [{"name", "hosts" (where tasks ran), "elapsed"}], "roles": {role: s},
     "stats": {host: {"ok", "changed", "failures", "unreachable", "skipped"}}}
"""

from __future__ import annotations

DOCUMENTATION = """
name: jovial_summary
type: aggregate
short_description: per-layer and per-role timings of a run, as JSON
description:
  - Writes play (layer) and role durations, the hosts of each play and the final stats to the
    file named by the JOVIAL_SUMMARY_FILE environment variable. Prints nothing.
requirements:
  - enable in ansible.cfg (callbacks_enabled)
"""

import json
import os
import time
from typing import Any

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "jovial_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._start = time.monotonic()
        self._plays: list[dict[str, Any]] = []
        self._play_start = 0.0
        self._roles: dict[str, float] = {}
        self._task: tuple[str | None, float] | None = None

    def _close_task(self) -> None:
        if self._task is not None:
            role, started = self._task
            if role:
                self._roles[role] = self._roles.get(role, 0.0) + time.monotonic() - started
            self._task = None

    def _close_play(self) -> None:
        self._close_task()
        if self._plays and self._plays[-1]["elapsed"] is None:
            self._plays[-1]["elapsed"] = round(time.monotonic() - self._play_start, 2)

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._close_play()
        self._play_start = time.monotonic()
        self._plays.append({"name": play.get_name().strip(), "hosts": [], "elapsed": None})

    def _ran_on(self, result: Any) -> None:
        """Record where a task really ran (delegation and run_once included)."""
        if not self._plays:
            return
        delegate_to = getattr(result._task, "delegate_to", None)
        if isinstance(delegate_to, str) and "{" not in delegate_to:
            name = delegate_to
        else:
            name = result._host.get_name()
        hosts = self._plays[-1]["hosts"]
        if name not in hosts:
            hosts.append(name)
            hosts.sort()

    def v2_runner_on_ok(self, result: Any) -> None:
        self._ran_on(result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._ran_on(result)

    def v2_playbook_on_task_start(self, task: Any, is_conditional: bool) -> None:
        self._close_task()
        role = task._role.get_name() if task._role else None
        self._task = (role, time.monotonic())

    def v2_playbook_on_handler_task_start(self, task: Any) -> None:
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats: Any) -> None:
        self._close_play()
        path = os.environ.get("JOVIAL_SUMMARY_FILE")
        if not path:
            return
        run = {
            "elapsed": round(time.monotonic() - self._start, 2),
            "plays": self._plays,
            "roles": {k: round(v, 2) for k, v in sorted(self._roles.items())},
            "stats": {h: stats.summarize(h) for h in sorted(stats.processed)},
        }
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(run, fh, indent=2)
