#!/usr/bin/env python3
"""JupyterHub spawn benchmark: N users log in and start their servers at the same time.

Targets only the lab's front door (HUB_URL and LAB_CA from build/lab/access.env, written by
`make lab`) and the lab's benchmark users bench01..bench20 (inventories/lab/group_vars/all/
ldap.yml; their shared password is generated into build/lab/secrets/ldap_password_bench).
First each user's leftover server from an earlier run is stopped (a running server would
answer the spawn at once and count as a ~0 s spawn); a spawn the hub answers "already running"
is an error, never a figure. Then each user, in its own thread, released together by a barrier:

    login (form + cookies + XSRF) -> POST /hub/api/users/<u>/server -> poll until ready
    -> open /user/<u>/lab through the hub's OAuth redirects (the server really answers)

Recorded per user: login time, time from the spawn request until the server is ready, and
until its page opened (the figure a user feels). Afterwards every server is stopped and the
stop time recorded. Writes build/bench/hub_spawn.json with p50/p95/max; figures are
reported, never asserted. Bounded: one round, at most --users users, --timeout s per spawn.

    make bench BENCH=hub_spawn            # or: .venv/bin/python tests/bench/bench_hub_spawn.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from jovial_hub.client import HubClient, HubError

TOP = Path(__file__).resolve().parents[2]
OUT = TOP / "build" / "bench"
ACCESS = TOP / "build" / "lab" / "access.env"
SECRET = TOP / "build" / "lab" / "secrets" / "ldap_password_bench"


def read_access(path: Path) -> dict[str, str]:
    """KEY=value lines of build/lab/access.env (quotes stripped)."""
    if not path.exists():
        raise SystemExit(f"{path} is missing: run `make lab` first")
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip().strip('"')
    return env


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of the values, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return round(ordered[rank - 1], 3)


def summary(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": round(max(values), 3) if values else None,
        "mean": round(statistics.fmean(values), 3) if values else None,
    }


def stop_leftover(base: str, ca: str, user: str, password: str, timeout: float) -> str | None:
    """Stop a server the user still has from an earlier run; None when none is left, else why.

    Without this a leftover server answers the spawn request at once (HTTP 400, already
    running) and would count as a ~0 s spawn.
    """
    client = HubClient(base, ca, timeout=60.0)
    try:
        client.login(user, password)
        if client.user is None:
            return "login refused"
        if client.server() is None:
            return None
        client.stop_server()
        deadline = time.monotonic() + timeout
        while client.server() is not None:
            if time.monotonic() >= deadline:
                return f"a server left from an earlier run did not stop within {timeout} s"
            time.sleep(1)
    except (HubError, OSError, ValueError) as exc:
        return str(exc)[:300]
    return None


def one_user(
    base: str, ca: str, user: str, password: str, barrier: threading.Barrier, timeout: float
) -> dict[str, Any]:
    record: dict[str, Any] = {"user": user}
    client = HubClient(base, ca, timeout=max(60.0, timeout))
    leftover = stop_leftover(base, ca, user, password, timeout=120)
    barrier.wait()
    if leftover is not None:
        record["error"] = f"before the round: {leftover}"
        record["client"] = client
        return record
    t0 = time.monotonic()
    try:
        resp = client.login(user, password)
        if client.user is None:
            raise HubError(f"login refused: HTTP {resp.status_code}")
        t1 = time.monotonic()
        record["login_s"] = round(t1 - t0, 3)
        status = client.start_server()
        if status == 400:
            # Already running: not a spawn this round can count (a leftover came back?).
            raise HubError("the server was already running when the spawn was asked for")
        record["spawn_status"] = status
        if not client.wait_ready(timeout=timeout, interval=0.5):
            raise HubError(f"server not ready after {timeout} s")
        t2 = time.monotonic()
        record["ready_s"] = round(t2 - t1, 3)
        client.open_server()
        record["open_s"] = round(time.monotonic() - t1, 3)
    except (HubError, OSError, ValueError) as exc:  # requests' errors are OSError subclasses
        record["error"] = str(exc)[:300]
    record["client"] = client
    return record


def stop_all(records: list[dict[str, Any]], timeout: float) -> dict[str, Any]:
    """Stop every server that started; time until none of them is running."""
    started = [r["client"] for r in records if "ready_s" in r]
    t0 = time.monotonic()
    for client in started:
        try:
            client.stop_server()
        except (HubError, OSError) as exc:
            print(f"stop {client.user}: {exc}")
    deadline = t0 + timeout
    remaining = list(started)
    while remaining and time.monotonic() < deadline:
        remaining = [c for c in remaining if c.server() is not None]
        if remaining:
            time.sleep(1)
    return {
        "servers": len(started),
        "all_stopped_s": round(time.monotonic() - t0, 3),
        "still_running": [c.user for c in remaining],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent users (max 20)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per spawn")
    args = parser.parse_args()
    if not 1 <= args.users <= 20:
        parser.error("--users must be 1-20 (the lab has bench01..bench20)")
    access = read_access(ACCESS)
    base, ca = access.get("HUB_URL", ""), access.get("LAB_CA", "")
    if not base or not ca:
        raise SystemExit(f"{ACCESS} has no HUB_URL/LAB_CA: re-run `make lab`")
    if not SECRET.exists():
        raise SystemExit(f"{SECRET} is missing: the lab's benchmark users were not created")
    password = SECRET.read_text().strip()
    users = [f"bench{i:02d}" for i in range(1, args.users + 1)]

    barrier = threading.Barrier(len(users))
    records: list[dict[str, Any]] = [{} for _ in users]

    def run(i: int, user: str) -> None:
        records[i] = one_user(base, ca, user, password, barrier, args.timeout)

    threads = [threading.Thread(target=run, args=(i, u)) for i, u in enumerate(users)]
    wall = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - wall
    stop = stop_all(records, timeout=300)

    ok = [r for r in records if "open_s" in r]
    result = {
        "bench": "hub_spawn",
        "target": {"hub_url": base, "users": len(users), "spawner": "systemd (lab hub1)"},
        "concurrent_users": len(users),
        "succeeded": len(ok),
        "failed": [{"user": r["user"], "error": r.get("error")} for r in records if "error" in r],
        "login_s": summary([r["login_s"] for r in records if "login_s" in r]),
        "spawn_until_ready_s": summary([r["ready_s"] for r in records if "ready_s" in r]),
        "spawn_until_page_s": summary([r["open_s"] for r in ok]),
        "wall_s": round(wall, 3),
        "stop": stop,
        "per_user": [{k: v for k, v in r.items() if k != "client"} for r in records],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "hub_spawn.json").write_text(json.dumps(result, indent=2) + "\n")
    shown = ("succeeded", "spawn_until_ready_s", "spawn_until_page_s", "stop", "failed")
    print(json.dumps({k: result[k] for k in shown}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
