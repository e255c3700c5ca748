#!/usr/bin/env python3
"""Kubernetes benchmark: layer converge (cold and no-op), the API gap through the VIP when the
VIP holder's control-plane node dies, control-plane recovery time, and the component build
(cold, from the record of the build, and from the cache).

Runs against the Molecule `kubernetes` scenario (mk-cp1, mk-cp2, mk-w1, mk-w2). By default it
creates and converges the scenario (timing the converge and a second, no-op converge),
measures, and destroys it; with --reuse it measures an already converged scenario and keeps it.

    make kube-artifacts
    make bench BENCH=kubernetes

Writes build/bench/kubernetes.json. Figures are reported, not asserted: the targets of the
issue (API back within 5 s, recovery within 300 s, no-op converge within 30 s) are written
beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from molecule_scenario import ephemeral_dir, molecule

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "molecule" / "kubernetes" / "tests"))
sys.path.insert(0, str(TOP / "molecule" / "etcd" / "tests"))

from etcd_drills import ansible_env, playbook  # noqa: E402 (shared Molecule helpers)
from kube_drills import (  # noqa: E402 (the drills live with the scenario's tests)
    VERSION,
    api_gap_when_killed,
    readyz,
    restart_node,
    sh,
    tls_context,
    vip_holder,
    wait_node_ready,
)

OUT = TOP / "build" / "bench"
SCENARIO = "kubernetes"


def timed(action) -> float:
    start = time.monotonic()
    action()
    return round(time.monotonic() - start, 1)


def converge_times() -> dict:
    env = ansible_env()
    molecule(SCENARIO, "destroy", env)
    molecule(SCENARIO, "create", env)
    cold = timed(lambda: molecule(SCENARIO, "converge", env))
    noop = timed(lambda: molecule(SCENARIO, "converge", env))
    return {"cold_converge_s": cold, "noop_converge_s": noop}


def api_gaps(runs: int) -> list[dict]:
    context = tls_context()
    results = []
    for n in range(runs):
        holder = vip_holder()
        result = api_gap_when_killed(holder, context)
        result["killed"] = holder
        restart_node(holder)
        deadline = time.monotonic() + 120
        while not readyz(context) and time.monotonic() < deadline:
            time.sleep(1)
        results.append(result)
        print(f"API gap {n + 1}/{runs}: {result}", flush=True)
    return results


def recoveries(runs: int) -> list[dict]:
    results = []
    for n in range(runs):
        victim = ("mk-cp2", "mk-cp1")[n % 2]
        sh(victim, "kubeadm reset --force >/dev/null 2>&1; rm -rf /etc/kubernetes /var/lib/kubelet")
        start = time.monotonic()
        out = playbook("recover-kube-node.yml", "-l", victim)
        ready = wait_node_ready(victim, 300)
        duration = round(time.monotonic() - start, 1)
        results.append(
            {"node": victim, "duration_s": duration, "rc": out.returncode, "ready": ready}
        )
        print(f"recovery {n + 1}/{runs}: {results[-1]}", flush=True)
        if out.returncode != 0:
            print(out.stdout[-3000:], file=sys.stderr)
            break
    return results


def build_times() -> dict:
    """Cold: what the build recorded when it last compiled; cached: a no-op rebuild now."""
    cache = Path(os.environ.get("JOVIAL_KUBE_CACHE", "/var/cache/jovial/kubernetes")) / VERSION
    record = (
        json.loads((cache / "build.json").read_text()) if (cache / "build.json").exists() else {}
    )
    cached = timed(
        lambda: subprocess.run(
            ["make", "-s", "kube-artifacts"], cwd=TOP, check=True, capture_output=True
        )
    )
    return {
        "cold_build_s": record.get("build_seconds"),
        "cached_build_s": cached,
        "go": record.get("go"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="use a converged scenario, keep it")
    parser.add_argument("--gap-runs", type=int, default=3)
    parser.add_argument("--recovery-runs", type=int, default=1)
    args = parser.parse_args()
    if not args.reuse and "JOVIAL_BASE_IMAGE" not in os.environ:
        print("set JOVIAL_BASE_IMAGE (images/base/build.sh --print)", file=sys.stderr)
        return 2
    result: dict = {"kubernetes_version": VERSION}
    try:
        if not args.reuse:
            result.update(converge_times())
        os.environ["MOLECULE_EPHEMERAL_DIRECTORY"] = str(ephemeral_dir(SCENARIO))
        gaps = api_gaps(args.gap_runs)
        result["api_gap"] = gaps
        result["api_gap_worst_s"] = max((g["gap_s"] for g in gaps), default=None)
        result["recovery"] = recoveries(args.recovery_runs)
    finally:
        if not args.reuse:
            molecule(SCENARIO, "destroy", ansible_env())
    result["build"] = build_times()
    result["targets"] = {"api_gap_s": 5, "recovery_s": 300, "noop_converge_s": 30}
    result["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform()}
    result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "kubernetes.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
