#!/usr/bin/env python3
"""Front-door benchmark: VIP failover time and requests per second through the proxy.

Targets only the proxy pair of the Molecule `proxy` scenario (default) or of the lab
(--target lab): the VIP and node names below, nothing else. The scenario must be converged
first (`molecule converge -s proxy`, with the Makefile's environment); the lab is the lead's
(`make lab`). Writes build/bench/proxy.json:

    {"failover": {"node_kill": [...], "node_stop": [...], "nginx_stop": [...], "summary": {...}},
     "throughput": {"requests", "errors", "seconds", "rps", "latency_ms": {...}},
     "target": {...}, "targets": {"failover_s": 4}, "machine": {...}}

Failover: a client on the host polls https://<VIP>/ every 50 ms (verified against the site CA,
0.5 s timeout) while the node holding the VIP is killed (`podman kill`: it vanishes without a
word, the backup waits out 3 adverts), stopped (`podman stop`: keepalived leaves with
priority 0) or its nginx is stopped (`systemctl stop nginx`: keepalived's track script moves
the VIP). Recorded per round:
the time from the stop to the first good answer again, and to the VIP appearing on the other
node. Each round restores the stopped node/service. Throughput: a bounded loop (at most
--requests requests or --seconds seconds) of HTTPS GETs over keep-alive connections from
--clients threads. Figures are reported, never asserted.
"""

from __future__ import annotations

import argparse
import glob
import http.client
import ipaddress
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
OUT = TOP / "build" / "bench"

TARGETS = {
    "molecule": {
        "vip": "10.78.4.100",
        "network": "10.78.4.0/24",
        "nodes": ["mp-edge1", "mp-edge2"],
        "ca_glob": str(Path.home() / ".ansible/tmp/molecule.*.proxy/pki/ca.crt"),
    },
    "lab": {
        "vip": "10.77.0.100",
        "network": "10.77.0.0/24",
        "nodes": ["edge1", "edge2"],
        "ca_glob": str(TOP / "build/lab/pki/ca.crt"),
    },
}


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def holds(node: str, vip: str) -> bool:
    pid = sh("podman", "inspect", "--format", "{{.State.Pid}}", node, check=False).stdout.strip()
    if not pid or pid == "0":
        return False
    out = sh("nsenter", "-t", pid, "-n", "ip", "-o", "-4", "addr", "show", check=False)
    return out.returncode == 0 and f" {vip}/" in out.stdout


def holder(target: dict) -> str | None:
    found = [n for n in target["nodes"] if holds(n, target["vip"])]
    return found[0] if len(found) == 1 else None


def https_get(vip: str, context: ssl.SSLContext, timeout: float) -> bool:
    conn = http.client.HTTPSConnection(vip, 443, timeout=timeout, context=context)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        conn.close()


def wait(check, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


def failover_round(target: dict, context: ssl.SSLContext, mode: str) -> dict:
    vip = target["vip"]
    old = holder(target)
    if old is None:
        raise RuntimeError(f"VIP {vip} is not held by exactly one of {target['nodes']}")
    new = next(n for n in target["nodes"] if n != old)
    stop_cmd = {
        "node_kill": ["podman", "kill", old],
        "node_stop": ["podman", "stop", "--time", "10", old],
        "nginx_stop": ["podman", "exec", old, "systemctl", "stop", "nginx"],
    }[mode]
    # The stop runs in the background: podman stop blocks while the node shuts down, and the
    # client keeps polling through it.
    stop_at = time.monotonic()
    stopper = subprocess.Popen(stop_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first_failure = None
    back_at = None
    vip_at = None
    deadline = stop_at + 30
    while time.monotonic() < deadline:
        ok = https_get(vip, context, timeout=0.5)
        now = time.monotonic()
        if not ok and first_failure is None:
            first_failure = now
        if ok and first_failure is not None and back_at is None:
            back_at = now
        if vip_at is None and holds(new, vip):
            vip_at = time.monotonic()
        if vip_at is not None and stopper.poll() is not None and (back_at or now - vip_at > 3):
            break
        time.sleep(0.05)
    stopper.wait(timeout=60)
    # Restore: the old holder comes back as a backup (nopreempt keeps the VIP where it is).
    if mode in ("node_stop", "node_kill"):
        sh("podman", "start", old)
        sh("podman", "exec", old, "systemctl", "is-system-running", "--wait", check=False)
    else:
        sh("podman", "exec", old, "systemctl", "start", "nginx")
    wait(
        lambda: (
            sh(
                "podman", "exec", old, "systemctl", "is-active", "keepalived", "nginx", check=False
            ).returncode
            == 0
        ),
        timeout=60,
    )
    time.sleep(5)  # let the returning node settle as backup (track script rise)
    return {
        "mode": mode,
        "stopped": old,
        "took_over": new,
        # From the stop to HTTPS answering again (0: no request failed at all).
        "https_back_s": round(back_at - stop_at, 3)
        if back_at
        else (0.0 if not first_failure else None),
        # The gap a client saw: first failed request to the next good one.
        "outage_s": round(back_at - first_failure, 3) if back_at and first_failure else 0.0,
        "vip_moved_s": round(vip_at - stop_at, 3) if vip_at else None,
    }


def throughput(
    vip: str, context: ssl.SSLContext, clients: int, requests: int, seconds: float
) -> dict:
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    budget = [requests]
    deadline = time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPSConnection(vip, 443, timeout=5, context=context)
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            start = time.monotonic()
            try:
                conn.request("GET", "/")
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPSConnection(vip, 443, timeout=5, context=context)
            with lock:
                if ok:
                    latencies.append(time.monotonic() - start)
                else:
                    errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    ms = sorted(x * 1000 for x in latencies)
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors[0],
        "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1) if elapsed else 0,
        "latency_ms": {
            "p50": round(statistics.median(ms), 2) if ms else None,
            "p95": round(ms[int(len(ms) * 0.95) - 1], 2) if ms else None,
            "max": round(ms[-1], 2) if ms else None,
        },
    }


def summary(rounds: list[dict]) -> dict:
    backs = [r["https_back_s"] for r in rounds if r["https_back_s"] is not None]
    outages = [r["outage_s"] for r in rounds]
    return {
        "rounds": len(rounds),
        "recovered": len(backs),
        "https_back_s_max": max(backs) if backs else None,
        "https_back_s_median": round(statistics.median(backs), 3) if backs else None,
        "outage_s_max": max(outages) if outages else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=sorted(TARGETS), default="molecule")
    parser.add_argument("--rounds", type=int, default=3, help="failover rounds per mode (max 10)")
    parser.add_argument("--requests", type=int, default=3000, help="throughput: max requests")
    parser.add_argument("--seconds", type=float, default=20, help="throughput: max seconds")
    parser.add_argument("--clients", type=int, default=4, help="throughput: client threads")
    args = parser.parse_args()
    target = TARGETS[args.target]
    # Only this project's own test addresses: the VIP must be inside the scenario/lab network.
    if ipaddress.ip_address(target["vip"]) not in ipaddress.ip_network(target["network"]):
        raise SystemExit("refusing a target outside the scenario/lab network")
    rounds = max(1, min(args.rounds, 10))
    cas = sorted(glob.glob(target["ca_glob"]), key=os.path.getmtime)
    if not cas:
        print(
            f"no site CA at {target['ca_glob']}: converge the {args.target} first", file=sys.stderr
        )
        return 2
    context = ssl.create_default_context(cafile=cas[-1])
    if not https_get(target["vip"], context, timeout=2):
        print(
            f"https://{target['vip']}/ does not answer: converge the {args.target} first",
            file=sys.stderr,
        )
        return 2

    result_throughput = throughput(
        target["vip"],
        context,
        args.clients,
        max(1, min(args.requests, 100000)),
        min(args.seconds, 120),
    )
    failover = {
        mode: [failover_round(target, context, mode) for _ in range(rounds)]
        for mode in ("node_kill", "node_stop", "nginx_stop")
    }
    result = {
        "failover": {**failover, "summary": {m: summary(r) for m, r in failover.items()}},
        "throughput": result_throughput,
        "target": {"name": args.target, "vip": target["vip"], "nodes": target["nodes"]},
        "targets": {"failover_s": 4},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "proxy.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["failover"]["summary"], indent=2))
    print(json.dumps(result_throughput, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
