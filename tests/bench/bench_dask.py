#!/usr/bin/env python3
"""Dask Gateway benchmark: what a user waits for and what the cluster buys them, in the lab.

Targets only the lab's front door (HUB_URL and LAB_CA from build/lab/access.env, written by
`make lab`) and one of the lab's benchmark users (bench20 by default; password generated into
build/lab/secrets/ldap_password_bench). The user logs in, starts a server and, in one kernel
over its websocket (as a notebook runs it), measures:

- ``new_cluster()`` until the cluster answers, and until the first worker is ready (the wait a
  user feels), then until ``--workers`` workers are ready;
- the example analysis (src/jovial_examples/cubes.py, examples/cube-moments.ipynb) on
  ``--cubes`` cubes: written once, then the moment maps computed on the gateway cluster and, on
  the same cubes, in the user's server alone (dask's synchronous scheduler: one process);
- the scheduler's overhead per task: ``--tasks`` no-op tasks through the cluster, wall time
  divided by their number.

Both backends, one after the other (``--backend`` for one): the systemd hub's gateway
(clusters as the user's processes on hub1; build/bench/dask.json) and the science hub's on
Kubernetes (clusters as the user's pods; build/bench/dask_science.json, the hub's URL
HUB_SCIENCE_URL). Figures are reported, never asserted.

    make bench BENCH=dask            # or: .venv/bin/python tests/bench/bench_dask.py
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from bench_hub_spawn import read_access  # the same access file, read one way

from jovial_hub.client import HubClient

LAB_KUBE_HUB = "science"
BACKENDS = {
    "systemd": ("HUB_URL", "systemd (lab hub1, Dask Gateway with JovialLocalBackend)", "dask"),
    "kubernetes": (
        f"HUB_{LAB_KUBE_HUB.upper()}_URL",
        f"kubernetes (the lab's {LAB_KUBE_HUB} hub, JovialKubeBackend: pods of the user)",
        f"dask_{LAB_KUBE_HUB}",
    ),
}

TOP = Path(__file__).resolve().parents[2]
OUT = TOP / "build" / "bench"
ACCESS = TOP / "build" / "lab" / "access.env"
SECRET = TOP / "build" / "lab" / "secrets" / "ldap_password_bench"

# Runs in the user's kernel; prints one JSON line.
KERNEL_CODE = """
import json, os, time
import dask
from dask_gateway import Gateway
from jovial_examples import cubes

out = {{}}
work = os.path.expanduser("~/bench-dask")
shape = {shape!r}
gateway = Gateway()
t0 = time.perf_counter()
cluster = gateway.new_cluster()
out["new_cluster_s"] = time.perf_counter() - t0
cluster.scale({workers})
client = cluster.get_client()
client.wait_for_workers(1, timeout=300)
out["first_worker_s"] = time.perf_counter() - t0
client.wait_for_workers({workers}, timeout=300)
out["all_workers_s"] = time.perf_counter() - t0
out["workers"] = len(client.scheduler_info()["workers"])

# First run on the cluster: writes the cubes missing from an earlier run, then their moments.
t = time.perf_counter()
dask.compute(*cubes.pipeline(work, {cubes}, shape))
out["first_run_s"] = time.perf_counter() - t

t = time.perf_counter()
stats = dask.compute(*cubes.pipeline(work, {cubes}, shape))
out["moments_cluster_s"] = time.perf_counter() - t
t = time.perf_counter()
dask.compute(*cubes.pipeline(work, {cubes}, shape), scheduler="sync")
out["moments_one_process_s"] = time.perf_counter() - t
out["summary"] = cubes.summarise(list(stats))

def noop(x):
    return x

t = time.perf_counter()
client.gather(client.map(noop, range({tasks}), pure=False))
out["overhead_per_task_ms"] = (time.perf_counter() - t) / {tasks} * 1000

client.close()
cluster.shutdown()
print(json.dumps(out))
"""


def bench(access: dict[str, str], backend: str, args: argparse.Namespace) -> dict:
    """One backend's figures; writes build/bench/<name>.json and returns what it wrote."""
    url_key, label, name = BACKENDS[backend]
    base, ca = access.get(url_key, ""), access.get("LAB_CA", "")
    if not base or not ca:
        raise SystemExit(f"{ACCESS} has no {url_key}/LAB_CA: re-run `make lab`")
    client = HubClient(base, ca, timeout=120)
    if client.login(args.user, SECRET.read_text().strip()).status_code != 200:
        raise SystemExit(f"{args.user} cannot log in at {base}")
    if client.start_server() not in (201, 202, 400) or not client.wait_ready(timeout=300):
        raise SystemExit(f"{args.user}'s server did not start at {base}")
    xsrf = client.open_server()
    code = KERNEL_CODE.format(
        shape=tuple(args.shape), workers=args.workers, cubes=args.cubes, tasks=args.tasks
    )
    started = time.perf_counter()
    out = client.execute(xsrf, code, timeout=3600)
    figures = json.loads(out.strip().splitlines()[-1])
    client.stop_server()
    speedup = figures["moments_one_process_s"] / figures["moments_cluster_s"]
    result = {
        "benchmark": "dask",
        "backend": label,
        "hub_url": base,
        "host": platform.node(),
        "user": args.user,
        "cubes": args.cubes,
        "cube_shape": args.shape,
        "workers": args.workers,
        "tasks": args.tasks,
        "figures": figures,
        "speedup_cluster_vs_one_process": round(speedup, 2),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["both", *BACKENDS], default="both")
    parser.add_argument("--user", default="bench20")
    parser.add_argument("--cubes", type=int, default=200)
    parser.add_argument("--shape", type=int, nargs=3, default=[64, 64, 64], metavar=("C", "Y", "X"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=2000)
    args = parser.parse_args()
    access = read_access(ACCESS)
    for backend in BACKENDS if args.backend == "both" else [args.backend]:
        bench(access, backend, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
