"""Drills: take the VIP holder's service, then the holder itself, down: stopped (podman stop,
keepalived leaves with priority 0), then killed (SIGKILL: no goodbye, the backup waits out
the missed adverts) and started again.

Each time the VIP must move to the other proxy node and HTTPS through it must work again from
a client (the host, on the scenario network); while it happens, both nodes' addresses are
sampled alternately and the VIP must never be seen on both at once. The time until HTTPS
works again is printed (tests/bench/bench_proxy.py records it); nothing here asserts on
time. Runs after test_proxy.py (file order) and leaves both nodes running.
"""

from __future__ import annotations

import http.client
import os
import ssl
import subprocess
import threading
import time
from pathlib import Path

from jovial_fixtures import wait_for

INVENTORY = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"

VIP = "10.78.4.100"
EDGES = ("mp-edge1", "mp-edge2")
CA_FILE = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "pki" / "ca.crt"


def _pid(name: str) -> str:
    out = subprocess.run(
        ["podman", "inspect", "--format", "{{.State.Pid}}", name],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() if out.returncode == 0 else "0"


_PIDS: dict[str, str] = {}


def holds(name: str) -> bool:
    """Whether the node has the VIP now, read in its network namespace from the host (a few
    milliseconds, so the two nodes are sampled close together). A stopped node holds nothing."""
    for attempt in range(2):
        pid = _PIDS.get(name) if attempt == 0 else None
        if not pid:
            pid = _pid(name)
            if pid == "0":  # stopped: asked again next time, so a restarted node is seen
                return False
            _PIDS[name] = pid
        out = subprocess.run(
            ["nsenter", "-t", pid, "-n", "ip", "-o", "-4", "addr", "show"],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode == 0:
            return f" {VIP}/" in out.stdout
        _PIDS.pop(name, None)  # the node restarted (new pid) or stopped
    return False


def holders() -> list[str]:
    return [e for e in EDGES if holds(e)]


class VipWatch:
    """Samples mp-edge1, mp-edge2, mp-edge1, ... in a thread until stopped.

    An overlap is proven when one node holds the VIP in two consecutive samples of it and the
    other node holds it in the sample taken between them (no reading order can fake that).
    """

    def __init__(self) -> None:
        self.samples: list[tuple[float, str, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            name = EDGES[i % 2]
            self.samples.append((time.monotonic(), name, holds(name)))
            i += 1

    def __enter__(self) -> VipWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def overlaps(self) -> list[tuple[float, float]]:
        found = []
        triples = zip(self.samples, self.samples[1:], self.samples[2:], strict=False)
        for before, middle, after in triples:
            if before[2] and middle[2] and after[2]:
                found.append((before[0], after[0]))
        return found


def https_ok() -> bool:
    """One HTTPS request through the VIP from the host (on the scenario network), verified
    against the scenario's site CA."""
    context = ssl.create_default_context(cafile=str(CA_FILE))
    conn = http.client.HTTPSConnection(VIP, 443, timeout=1, context=context)
    try:
        conn.request("GET", "/")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def wait_https(timeout: float) -> float | None:
    """Seconds until HTTPS through the VIP answers, or None."""
    start = time.monotonic()
    ok = wait_for(https_ok, timeout=timeout, interval=0.1)
    return time.monotonic() - start if ok else None


def _one_holder() -> str:
    found = wait_for(lambda: len(holders()) == 1 and holders(), timeout=30)
    assert found and len(found) == 1, f"VIP holders before the drill: {found}"
    return found[0]


def test_drill_nginx_stopped_on_the_holder_moves_the_vip(node):
    holder = _one_holder()
    other = next(e for e in EDGES if e != holder)
    with VipWatch() as watch:
        start = time.monotonic()
        node(holder).run_expect([0], "systemctl stop nginx")
        back = wait_https(timeout=30)
        elapsed = time.monotonic() - start
        moved = wait_for(lambda: holds(other) and not holds(holder), timeout=30, interval=0.2)
        time.sleep(2)  # keep sampling a little after the move
    node(holder).run_expect([0], "systemctl start nginx")
    print(f"nginx stopped on {holder}: VIP on {other}, HTTPS again after {elapsed:.2f} s")
    assert moved, f"VIP did not move from {holder} to {other}: holders now {holders()}"
    assert back is not None, "HTTPS through the VIP did not come back"
    assert watch.overlaps() == [], f"VIP seen on both nodes at {watch.overlaps()}"
    assert len(watch.samples) > 100  # the watch really sampled through the move
    # nginx back on the old holder: the VIP stays where it is (no second move).
    time.sleep(4)
    assert holders() == [other]


def test_drill_holder_node_stopped_moves_the_vip(node):
    holder = _one_holder()
    other = next(e for e in EDGES if e != holder)
    with VipWatch() as watch:
        start = time.monotonic()
        subprocess.run(["podman", "stop", "--time", "10", holder], check=True, capture_output=True)
        back = wait_https(timeout=30)
        elapsed = time.monotonic() - start
        time.sleep(2)
    print(f"{holder} stopped: HTTPS through the VIP again after {elapsed:.2f} s")
    try:
        assert back is not None, "HTTPS through the VIP did not come back"
        assert holds(other)
        assert watch.overlaps() == [], f"VIP seen on both nodes at {watch.overlaps()}"
        assert len(watch.samples) > 100
    finally:
        subprocess.run(["podman", "start", holder], check=True, capture_output=True)
        subprocess.run(
            ["podman", "exec", holder, "systemctl", "is-system-running", "--wait"],
            capture_output=True,
            check=False,
        )
    # The node comes back with nginx and keepalived enabled, as a backup.
    assert wait_for(lambda: node(holder).service("keepalived").is_running, timeout=30)
    assert node(holder).service("nginx").is_running
    time.sleep(4)
    assert holders() == [other]
    assert https_ok()


def _reachable_over_ssh(name: str) -> bool:
    """Ansible reaches the node over SSH as converge does (a ping module round trip)."""
    out = subprocess.run(
        ["ansible", "-i", str(INVENTORY), name, "-m", "ansible.builtin.ping"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return out.returncode == 0


def _booted(name: str) -> str:
    """systemd's state once it has finished booting the node ('running', 'degraded'), or ''
    while podman exec cannot reach it yet."""
    out = subprocess.run(
        ["podman", "exec", name, "systemctl", "is-system-running", "--wait"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() if out.stdout.strip() in ("running", "degraded") else ""


def test_drill_holder_node_killed_moves_the_vip(node):
    """The crash case: the holder's container gets SIGKILL. The partner takes the VIP once the
    adverts stop and serves HTTPS; the killed node is started again (systemd boot, reachable
    over SSH at once: fixed MAC) and rejoins as a backup. The VIP is sampled on both nodes from
    the kill until a few seconds after the node is back."""
    holder = _one_holder()
    other = next(e for e in EDGES if e != holder)
    with VipWatch() as watch:
        start = time.monotonic()
        kill = ["podman", "kill", "--signal", "KILL", holder]
        subprocess.run(kill, check=True, capture_output=True)
        try:
            back = wait_https(timeout=60)
            elapsed = time.monotonic() - start
            moved = wait_for(lambda: holds(other), timeout=30, interval=0.2)
            time.sleep(1)
        finally:
            subprocess.run(["podman", "start", holder], check=True, capture_output=True)
            restarted = time.monotonic()
            boot = wait_for(lambda: _booted(holder), timeout=120, interval=1)
        ssh = wait_for(lambda: _reachable_over_ssh(holder), timeout=60, interval=2)
        rejoined = wait_for(lambda: node(holder).service("keepalived").is_running, timeout=30)
        back_after = time.monotonic() - restarted
        time.sleep(4)  # sample while the restarted keepalived settles as a backup
    print(
        f"{holder} killed: VIP on {other}, HTTPS again after {elapsed:.2f} s; "
        f"{holder} started again ({boot or 'not booted'}): SSH and keepalived after "
        f"{back_after:.1f} s"
    )
    assert back is not None, "HTTPS through the VIP did not come back"
    assert moved, f"VIP did not move to {other}: holders now {holders()}"
    assert watch.overlaps() == [], f"VIP seen on both nodes at {watch.overlaps()}"
    assert len(watch.samples) > 100
    # The watch really sampled the restarted node (its namespace, not a stopped container).
    after = [s for s in watch.samples if s[0] > restarted and s[1] == holder]
    assert len(after) > 20, len(after)
    assert boot == "running", f"{holder} after podman start: systemd {boot or 'not booted'}"
    assert ssh, f"{holder} not reachable over SSH after podman start"
    assert rejoined, f"keepalived not running on {holder} after podman start"
    assert node(holder).service("nginx").is_running
    assert holders() == [other]
    assert https_ok()
