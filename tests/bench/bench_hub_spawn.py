#!/usr/bin/env python3
"""JupyterHub spawn benchmark: N users log in and start their servers at the same time.

Targets only the lab's front door (HUB_URL, or HUB_<NAME>_URL with --hub <name> for a hub on
Kubernetes, and LAB_CA from build/lab/access.env, written by `make lab`) and the lab's
benchmark users bench01..bench20 (inventories/lab/group_vars/all/ldap.yml; their shared
password is generated into build/lab/secrets/ldap_password_bench). First each user's leftover
server from an earlier run is stopped (a running server would answer the spawn at once and
count as a ~0 s spawn); a spawn the hub answers "already running" is an error, never a figure.
Then each user, in its own thread, released together by a barrier:

    login (form + cookies + XSRF; it starts nothing) -> POST /hub/api/users/<u>/server
    -> poll until ready -> open /user/<u>/lab through the hub's OAuth redirects

Recorded per user: login time, time from the spawn request until the server is ready and
until its page opened, and from the login form to the page (the figure a user feels).
Afterwards every server is stopped and the stop time recorded.

Before the round, one user alone on the idle hub (``single``): the same steps, timed, with the
CPU they cost. CPU is read on the hub's nodes through ``podman exec``: the systemd hub's node
(HUB_NODE in access.env) or, for a hub on Kubernetes, every Kubernetes node (KUBE_NODES). Per
node its whole cgroup (cpuacct or cpu.stat: every process of the node, the login's SSSD
lookups included); the machine's (/proc/stat: the front door, the directory and the rest of
the lab too); and on a systemd hub, per component, the hub, its proxy and the user servers
(their units' processes, read before the servers stop). The nodes' idle rate, measured for a
few seconds first, is subtracted to give the CPU-seconds per spawn.

Writes build/bench/hub_spawn.json (systemd) and hub_spawn_<name>.json (Kubernetes) with
p50/p95/max; figures are reported, never asserted. Bounded: one round per backend, at most
--users users, --timeout s per spawn.

    make bench BENCH=hub_spawn            # both backends: the systemd hub, then the science
                                          # hub on Kubernetes with its tiny profile
    .venv/bin/python tests/bench/bench_hub_spawn.py --backend systemd
    .venv/bin/python tests/bench/bench_hub_spawn.py --hub teaching --users 4
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
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


# Runs on the hub node (python3 is on every node: Ansible needs it). Prints JSON: the node's
# CPU-seconds so far (its own cgroup) and, per unit (the hub's, the servers' and SSSD's), the CPU
# of the unit's processes. With
# cgroup v2 a unit's cpu.stat counts every process it ever ran; on a cgroup v1 host (the
# systemd inside a container gets no cpuacct hierarchy of its own) the live processes' utime,
# stime and their waited-for children's are summed instead ("method" says which).
NODE_CPU = r"""
import glob, json, os, re
tick = os.sysconf("SC_CLK_TCK")
def v2(path):
    for line in open(path):
        if line.startswith("usage_usec "):
            return int(line.split()[1]) / 1e6
def live(units):
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cg = open(f"/proc/{pid}/cgroup").read()
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        m = re.search(r"/system\.slice/((?:jupyter|sssd)[^/]*\.service)$", cg, re.M)
        if m:
            units[m[1]] = units.get(m[1], 0.0) + sum(int(x) for x in f[11:15]) / tick
out = {"units": {}}
if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
    out["method"] = "cgroup v2 cpu.stat"
    out["node"] = v2("/sys/fs/cgroup/cpu.stat")
    units = "/sys/fs/cgroup/system.slice"
    for d in glob.glob(units + "/jupyter*.service") + glob.glob(units + "/sssd*.service"):
        out["units"][os.path.basename(d)] = v2(d + "/cpu.stat")
else:
    out["method"] = "cgroup v1 cpuacct (node), /proc of the units' live processes"
    out["node"] = int(open("/sys/fs/cgroup/cpuacct/cpuacct.usage").read()) / 1e9
    live(out["units"])
print(json.dumps(out))
"""


def machine_cpu() -> float:
    """CPU-seconds the whole machine has used (user, nice, system, irq, softirq of /proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(fields[i]) for i in (0, 1, 2, 5, 6))
    return busy / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used on the hub's nodes (summed) and the machine between two readings."""

    def __init__(self, nodes: list[str]) -> None:
        if not nodes:
            raise ValueError("no node to read the CPU of")
        self.nodes = nodes

    def _node(self, node: str) -> dict[str, Any]:
        proc = subprocess.run(
            ["podman", "exec", node, "python3", "-c", NODE_CPU],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise SystemExit(f"cannot read the CPU of {node}: {proc.stderr.strip()[:300]}")
        return json.loads(proc.stdout)

    def read(self) -> dict[str, Any]:
        samples = {node: self._node(node) for node in self.nodes}
        units: dict[str, float] = {}
        for sample in samples.values():
            units.update(sample["units"])
        return {
            "method": next(iter(samples.values()))["method"],
            "node": sum(s["node"] for s in samples.values()),
            "per_node": {node: s["node"] for node, s in samples.items()},
            "units": units,
            "machine": machine_cpu(),
            "at": time.monotonic(),
        }

    def idle_rate(self, seconds: float = 10.0) -> dict[str, float]:
        """CPU-seconds per second the nodes and the machine use with nobody spawning."""
        a = self.read()
        time.sleep(seconds)
        b = self.read()
        span = b["at"] - a["at"]
        return {k: round((b[k] - a[k]) / span, 4) for k in ("node", "machine")}

    @staticmethod
    def used(
        a: dict[str, Any], b: dict[str, Any], idle: dict[str, float], n: int
    ) -> dict[str, Any]:
        """CPU between readings a and b: raw, net of the idle rate, and per spawn (n spawns).
        Per unit: the hub and proxy as differences; user servers as read at b (they did not
        exist at a), summed."""
        span = b["at"] - a["at"]
        node = b["node"] - a["node"]
        machine = b["machine"] - a["machine"]
        units = {}
        servers = 0.0
        for unit, value in b["units"].items():
            if unit.endswith("-singleuser.service"):
                servers += value - a["units"].get(unit, 0.0)
            else:
                units[unit] = round(value - a["units"].get(unit, 0.0), 3)
        n = max(n, 1)
        return {
            "method": b.get("method"),
            "nodes": sorted(b["per_node"]),
            "per_node_s": {k: round(v - a["per_node"][k], 3) for k, v in b["per_node"].items()},
            "window_s": round(span, 3),
            "node_s": round(node, 3),
            "node_net_s": round(node - idle["node"] * span, 3),
            "machine_s": round(machine, 3),
            "machine_net_s": round(machine - idle["machine"] * span, 3),
            "per_spawn": {
                "node_net_s": round((node - idle["node"] * span) / n, 3),
                "machine_net_s": round((machine - idle["machine"] * span) / n, 3),
                "hub_s": round(units.get("jupyterhub.service", 0.0) / n, 3),
                "proxy_s": round(units.get("jupyterhub-proxy.service", 0.0) / n, 3),
                "server_s": round(servers / n, 3),
            },
            "units": units,
            "servers_s": round(servers, 3),
        }


def stop_leftover(base: str, ca: str, user: str, password: str, timeout: float) -> str | None:
    """Stop a server the user still has from an earlier run; None when none is left, else why.

    Without this a leftover server answers the spawn request at once (HTTP 400, already
    running) and would count as a ~0 s spawn.
    """
    client = HubClient(base, ca, timeout=60.0)
    try:
        client.login(user, password, start=False)
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
    base: str,
    ca: str,
    user: str,
    password: str,
    barrier: threading.Barrier,
    timeout: float,
    options: dict[str, Any],
) -> dict[str, Any]:
    """Log in, spawn, wait until ready and open the page, released by the barrier."""
    record: dict[str, Any] = {"user": user}
    client = HubClient(base, ca, timeout=max(60.0, timeout))
    barrier.wait()
    t0 = time.monotonic()
    try:
        # Logging in starts nothing (start=False): the spawn is the API request timed next.
        resp = client.login(user, password, start=False)
        if client.user is None:
            raise HubError(f"login refused: HTTP {resp.status_code}")
        t1 = time.monotonic()
        record["login_s"] = round(t1 - t0, 3)
        status = client.start_server(options)
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
        record["total_s"] = round(time.monotonic() - t0, 3)  # login form to the lab's page
    except (HubError, OSError, ValueError) as exc:  # requests' errors are OSError subclasses
        record["error"] = str(exc)[:300]
    record["client"] = client
    return record


def round_of(
    base: str, ca: str, users: list[str], password: str, timeout: float, options: dict[str, Any]
) -> tuple[list[dict[str, Any]], float]:
    """Every user in its own thread, released together; the records and the wall time."""
    barrier = threading.Barrier(len(users))
    records: list[dict[str, Any]] = [{} for _ in users]

    def run(i: int, user: str) -> None:
        records[i] = one_user(base, ca, user, password, barrier, timeout, options)

    threads = [threading.Thread(target=run, args=(i, u)) for i, u in enumerate(users)]
    wall = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records, round(time.monotonic() - wall, 3)


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


# The lab's Kubernetes hub with room for 20 servers at once, and the profile that fits them
# (inventories/lab/group_vars/all/jupyterhub.yml: tiny, 20m reserved; quota.limits for the burst).
LAB_KUBE_HUB, LAB_KUBE_PROFILE = "science", "tiny"


def bench(
    access: dict[str, str], hub: str, profile: str, users: list[str], password: str, timeout: float
) -> dict[str, Any]:
    """One backend: the systemd hub (``hub`` empty) or the Kubernetes hub ``hub``; writes
    build/bench/hub_spawn.json or hub_spawn_<hub>.json and returns what it wrote."""
    url_key = f"HUB_{hub.upper().replace('-', '_')}_URL" if hub else "HUB_URL"
    base, ca = access.get(url_key, ""), access.get("LAB_CA", "")
    if not base or not ca:
        raise SystemExit(f"{ACCESS} has no {url_key}/LAB_CA: re-run `make lab` (or check --hub)")
    options = {"profile": profile} if profile else {}
    # Where the hub and its servers run: the systemd hub's node, or every Kubernetes node (the
    # hub pod, its proxy and the users' pods are scheduled on any of them).
    nodes = access.get("KUBE_NODES" if hub else "HUB_NODE", "").split()
    if not nodes:
        raise SystemExit(
            f"{ACCESS} has no {'KUBE_NODES' if hub else 'HUB_NODE'}: re-run `make lab`"
        )
    spawner = f"kubernetes ({hub} hub)" if hub else f"systemd ({nodes[0]})"
    meter = CpuMeter(nodes)

    # Leftover servers from an earlier run would answer at once: stop them first, in parallel.
    leftovers: dict[str, str | None] = {}

    def clean(user: str) -> None:
        leftovers[user] = stop_leftover(base, ca, user, password, timeout=120)

    cleaners = [threading.Thread(target=clean, args=(u,)) for u in users]
    for t in cleaners:
        t.start()
    for t in cleaners:
        t.join()
    blocked = {u: why for u, why in leftovers.items() if why is not None}
    if blocked:
        raise SystemExit(f"cannot start from a clean hub: {blocked}")

    idle = meter.idle_rate()
    # One user alone on the idle hub.
    a = meter.read()
    single, _ = round_of(base, ca, users[:1], password, timeout, options)
    b = meter.read()
    single_stop = stop_all(single, timeout=120)
    single_cpu = CpuMeter.used(a, b, idle, n=1)
    time.sleep(5)  # let the stop settle before the round starts

    a = meter.read()
    records, wall = round_of(base, ca, users, password, timeout, options)
    b = meter.read()
    stop = stop_all(records, timeout=300)
    ok = [r for r in records if "open_s" in r]
    round_cpu = CpuMeter.used(a, b, idle, n=len(ok))

    one = single[0]
    result = {
        "bench": "hub_spawn",
        "target": {
            "hub_url": base,
            "hub_nodes": nodes,
            "users": len(users),
            "spawner": spawner,
            "profile": profile or "(the hub's default)",
        },
        "idle_cpu_rate": idle,
        "single": {
            "user": one["user"],
            "error": one.get("error"),
            "login_s": one.get("login_s"),
            "spawn_until_ready_s": one.get("ready_s"),
            "spawn_until_page_s": one.get("open_s"),
            "login_until_page_s": one.get("total_s"),
            "cpu": single_cpu,
            "stop": single_stop,
        },
        "concurrent_users": len(users),
        "succeeded": len(ok),
        "failed": [{"user": r["user"], "error": r.get("error")} for r in records if "error" in r],
        "login_s": summary([r["login_s"] for r in records if "login_s" in r]),
        "spawn_until_ready_s": summary([r["ready_s"] for r in records if "ready_s" in r]),
        "spawn_until_page_s": summary([r["open_s"] for r in ok]),
        "login_until_page_s": summary([r["total_s"] for r in ok]),
        "cpu": round_cpu,
        "wall_s": wall,
        "stop": stop,
        "per_user": [{k: v for k, v in r.items() if k != "client"} for r in records],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"hub_spawn{'_' + hub if hub else ''}.json").write_text(
        json.dumps(result, indent=2) + "\n"
    )
    shown = ("single", "succeeded", "login_s", "spawn_until_page_s", "login_until_page_s", "cpu")
    print(json.dumps({"spawner": spawner, **{k: result[k] for k in shown}}, indent=2))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent users (max 20)")
    parser.add_argument(
        "--backend",
        choices=("both", "systemd", "kubernetes"),
        default=None,
        help="the systemd hub (HUB_URL), the Kubernetes hub of --hub, or both one after the "
        "other; default: both, or kubernetes when --hub is given",
    )
    parser.add_argument(
        "--hub",
        default=None,
        help=f"the Kubernetes hub by name (HUB_<NAME>_URL in access.env); default: "
        f"{LAB_KUBE_HUB} (the lab's hub with room for 20 servers)",
    )
    parser.add_argument(
        "--profile",
        default=None,
        help=f"the profile every server on the Kubernetes hub asks for; default: "
        f"{LAB_KUBE_PROFILE} on the {LAB_KUBE_HUB} hub, else the hub's default profile",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per spawn")
    args = parser.parse_args()
    if not 1 <= args.users <= 20:
        parser.error("--users must be 1-20 (the lab has bench01..bench20)")
    backend = args.backend or ("kubernetes" if args.hub else "both")
    if backend == "systemd" and (args.hub or args.profile):
        parser.error("--hub and --profile are for a hub on Kubernetes: the systemd hub has none")
    hub = args.hub or LAB_KUBE_HUB
    profile = (
        args.profile
        if args.profile is not None
        else (LAB_KUBE_PROFILE if hub == LAB_KUBE_HUB else "")
    )
    access = read_access(ACCESS)
    if not SECRET.exists():
        raise SystemExit(f"{SECRET} is missing: the lab's benchmark users were not created")
    password = SECRET.read_text().strip()
    users = [f"bench{i:02d}" for i in range(1, args.users + 1)]
    targets = {
        "both": [("", ""), (hub, profile)],
        "systemd": [("", "")],
        "kubernetes": [(hub, profile)],
    }[backend]
    results = [bench(access, h, p, users, password, args.timeout) for h, p in targets]
    return 0 if all(r["succeeded"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
