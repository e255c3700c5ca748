#!/usr/bin/env python3
"""Lustre failover benchmark: time for a pair to run its targets on the partner, as the servers
and as a writing client see it, and the shared filesystem's throughput.

Runs against the Molecule `lustre` scenario (MDS pair ms-mds1/2, OSS pair ms-oss1/2, backend
moosefs on ext4+MMP targets: real corosync/pacemaker, real fencing through the lab fence agent,
real ext4 MMP, real MooseFS mounted through FUSE on the clients ms-cl1/2).
By default it creates and converges the scenario, measures, and destroys it; with --reuse it
measures an already converged scenario (e.g. after `molecule converge -s lustre`) and leaves
it running.

    JOVIAL_BASE_IMAGE=$(images/base/build.sh --print) \
        .venv/bin/python tests/bench/bench_lustre_failover.py

Per pair, `runs` times each:
  - crash: the primary's container is killed; seconds until pacemaker on the partner reports
    every target of the pair (and its address and MooseFS daemon) Started there (detection +
    fencing + MMP-guarded mounts), and until fencing (stonith-action reboot) had the killed
    node running again; meanwhile a user on ms-cl1 writes a numbered stream of fsync'd files:
    the longest time between two acknowledged writes (the time without service the client
    sees) and the acknowledged writes missing afterwards (read on ms-cl2; target 0);
  - failback: playbooks/lustre-failover.yml -e lustre_failover_action=failback, wall time;
  - maintenance: lustre-failover.yml moving the primary's targets to the partner (standby and
    wait), then failback, wall time of each.

Then throughput on a client, on the shared filesystem and on the client's own disk: one large
sequential file written (fsync at the end) and read back (the page cache may serve part of
the read), and many small files created.

Writes build/bench/lustre_failover.json. Figures are reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from molecule_scenario import ephemeral_dir, molecule, start

TOP = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "molecule" / "lustre" / "tests"))

from lustre_drills import (  # noqa: E402 (the drills live with the scenario's tests)
    CLIENT_MOUNT,
    PAIRS,
    TARGETS,
    Writer,
    ansible_env,
    failover_move,
    kill_and_wait,
    longest_gap,
    mounted_on,
    sh,
    wait_member,
)

HOME = f"{CLIENT_MOUNT}/home/ada"

OUT = TOP / "build" / "bench"


def on_preferred() -> bool:
    return all(mounted_on(t) == [p] for t, (p, _f) in TARGETS.items())


def measure_pair(pair: str, runs: int) -> dict:
    primary, partner = PAIRS[pair]
    crashes, failbacks, moves = [], [], []
    for n in range(runs):
        writer = Writer("ms-cl1", "ada", f"{HOME}/bench-{pair}-{n}")
        writer.start()
        writer.wait_progress(10)
        r = kill_and_wait(primary)
        r["client_resumed"] = writer.wait_progress(10)
        acked = writer.stop()
        r["client_acked"] = len(acked)
        r["client_longest_gap_s"] = longest_gap(acked)
        r["client_lost"] = len(writer.missing(acked, "ms-cl2"))
        r["rejoined"] = wait_member(primary, partner)
        crashes.append(r)
        print(f"{pair} crash {n + 1}/{runs}: {r}", flush=True)
        took, out = failover_move(primary, "failback")
        failbacks.append({"duration_s": took, "rc": out.returncode})
        print(f"{pair} failback {n + 1}/{runs}: {failbacks[-1]}", flush=True)
        if out.returncode != 0:
            print(out.stdout[-3000:], file=sys.stderr)
            break
    for n in range(runs):
        took, out = failover_move(primary)
        back, out2 = failover_move(primary, "failback")
        moves.append(
            {"standby_s": took, "failback_s": back, "rc": [out.returncode, out2.returncode]}
        )
        print(f"{pair} maintenance {n + 1}/{runs}: {moves[-1]}", flush=True)
        if out.returncode or out2.returncode:
            print((out.stdout + out2.stdout)[-3000:], file=sys.stderr)
            break
    ok = [c["failover_s"] for c in crashes if c["failover_s"] is not None]
    gaps = [c["client_longest_gap_s"] for c in crashes]
    return {
        "client_longest_gap_worst_s": max(gaps) if gaps else None,
        "client_lost_total": sum(c["client_lost"] for c in crashes),
        "primary": primary,
        "partner": partner,
        "crash": crashes,
        "crash_failover_worst_s": max(ok) if ok else None,
        "failback": failbacks,
        "maintenance": moves,
    }


THROUGHPUT = r"""
set -e
dir=$1
big=256
rm -rf "$dir/tp" && mkdir -p "$dir/tp"
t0=$(date +%s.%N)
dd if=/dev/zero of="$dir/tp/big" bs=1M count=$big conv=fsync status=none
t1=$(date +%s.%N)

dd if="$dir/tp/big" of=/dev/null bs=1M status=none
t2=$(date +%s.%N)
for i in $(seq 1 500); do head -c 4096 /dev/zero > "$dir/tp/s$i"; done
t3=$(date +%s.%N)
rm -rf "$dir/tp"
python3 -c "import json,sys; a=[float(x) for x in sys.argv[1:]]; print(json.dumps({
 'seq_write_mib_s': round($big/(a[1]-a[0]),1), 'seq_read_mib_s': round($big/(a[2]-a[1]),1),
 'small_files_per_s': round(500/(a[3]-a[2]),1)}))" $t0 $t1 $t2 $t3
"""


def throughput() -> dict:
    """256 MiB sequential write+fsync and read, 500 files of 4 KiB, as ada on ms-cl1: on the
    shared filesystem and on the client's own disk."""
    sh("ms-cl1", f"cat > /var/tmp/jovial-tp.sh <<'EOF'\n{THROUGHPUT}\nEOF")
    sh("ms-cl1", "install -d -o ada -m 0700 /var/tmp/ada-local")
    result = {}
    for where, directory in (("shared", HOME), ("local_disk", "/var/tmp/ada-local")):
        out = sh("ms-cl1", f"su -s /bin/sh ada -c 'sh /var/tmp/jovial-tp.sh {directory}'", 600)
        result[where] = json.loads(out.stdout) if out.returncode == 0 else {"error": out.stderr}
        print(f"throughput {where}: {result[where]}", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="use a converged scenario, keep it")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    if not start("lustre", args.reuse, ansible_env()):
        return 2
    os.environ["MOLECULE_EPHEMERAL_DIRECTORY"] = str(ephemeral_dir("lustre"))
    try:
        if not on_preferred():
            raise SystemExit("targets are not on their preferred nodes; fail them back first")
        versions = sh("ms-mds1", "corosync -v | head -1; pacemakerd --version | head -1").stdout
        sh("ms-cl1", f"install -d -o ada -g astro -m 0700 {HOME}")
        pairs = {pair: measure_pair(pair, args.runs) for pair in PAIRS}
        speeds = throughput()
    finally:
        if not args.reuse:
            molecule("lustre", "destroy", ansible_env())
    OUT.mkdir(parents=True, exist_ok=True)
    result = {
        "pairs": pairs,
        "throughput": speeds,
        "backend": "moosefs on loop-backed ext4 with MMP (ocf:heartbeat:Filesystem), FUSE clients",
        "fencing": "fence_jovial_podman (stonith-action reboot)",
        "versions": versions.strip().splitlines(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (OUT / "lustre_failover.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
