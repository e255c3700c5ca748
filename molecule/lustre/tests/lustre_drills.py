"""Helpers shared by the lustre scenario's tests and tests/bench/bench_lustre_failover.py.

Everything runs through `podman exec` on the scenario's nodes, as an operator on the node
would (crm_mon, findmnt, mount), or through the project's playbooks.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
FSNAME = "jovial"
PAIRS = {"mds": ("ms-mds1", "ms-mds2"), "oss": ("ms-oss1", "ms-oss2")}
NODES = [n for pair in PAIRS.values() for n in pair]
ADDRESSES = {"ms-mds1": "10.78.6.11", "ms-mds2": "10.78.6.12", "ms-oss1": "10.78.6.21",
             "ms-oss2": "10.78.6.22", "ms-cl1": "10.78.6.31", "ms-cl2": "10.78.6.32"}  # fmt: skip
# The clients (lustre_client) and where they mount the filesystem (backend moosefs).
CLIENTS = ["ms-cl1", "ms-cl2"]
CLIENT_MOUNT = "/lustre/jovial"
# Each MooseFS service's failover address (the target's `address`) -> the target it moves with.
SERVICE_ADDRESSES = {"10.78.6.40": "jovial-mdt0", "10.78.6.50": "jovial-ost0",
                     "10.78.6.51": "jovial-ost1"}  # fmt: skip
# target resource -> (primary, failover), as molecule.yml's lustre_targets say.
TARGETS = {
    "jovial-mgt0": ("ms-mds1", "ms-mds2"),
    "jovial-mdt0": ("ms-mds1", "ms-mds2"),
    "jovial-ost0": ("ms-oss1", "ms-oss2"),
    "jovial-ost1": ("ms-oss2", "ms-oss1"),
}
MOUNT_ROOT = "/lustre/targets"
# The MooseFS daemon each target carries (backend moosefs); with its failover address
# (<target>-address) it follows the target.
SERVICES = {
    "jovial-mdt0": "mfsmaster",
    "jovial-ost0": "mfschunkserver",
    "jovial-ost1": "mfschunkserver",
}


def resources(target: str) -> list[str]:
    """The target's Pacemaker resources: the target, and its address and daemon if any."""
    service = SERVICES.get(target)
    return [target] + ([f"{target}-address", f"{target}-{service}"] if service else [])


def sh(node: str, script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", "exec", node, "bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def pair_of(target: str) -> tuple[str, str]:
    return TARGETS[target]


def running(node: str) -> bool:
    out = subprocess.run(
        ["podman", "inspect", "--format", "{{.State.Running}}", node],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() == "true"


def cluster(node: str) -> ET.Element | None:
    """crm_mon's XML as seen from node, or None when pacemaker does not answer there."""
    out = sh(node, "crm_mon --one-shot --output-as=xml", timeout=30)
    if out.returncode != 0 or not out.stdout.strip():
        return None
    return ET.fromstring(out.stdout)


def online_nodes(node: str) -> set[str]:
    root = cluster(node)
    if root is None:
        return set()
    return {
        n.get("name")
        for n in root.iter("node")
        if n.get("online") == "true" and n.get("standby") == "false" and n.get("name")
    }


def started_on(node: str) -> dict[str, list[str]]:
    """resource id -> nodes where pacemaker (asked on node) has it Started."""
    root = cluster(node)
    if root is None:
        return {}
    where: dict[str, list[str]] = {}
    for res in root.iter("resource"):
        if res.get("role") == "Started":
            where[res.get("id")] = [n.get("name") for n in res.iter("node")]
    return where


def mounted_on(target: str) -> list[str]:
    """The nodes (running containers) whose kernel view has the target's mount point mounted."""
    nodes = []
    for node in NODES:
        if not running(node):
            continue
        out = sh(node, f"findmnt -n -o SOURCE {MOUNT_ROOT}/{target}", timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            nodes.append(node)
    return nodes


def wait_started(asker: str, targets: list[str], node: str, timeout: float) -> float | None:
    """Seconds until every target is Started on node (asked on asker), None on timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        where = started_on(asker)
        if all(where.get(t) == [node] for t in targets):
            return round(time.monotonic() - start, 1)
        time.sleep(0.5)
    return None


def ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ANSIBLE_CONFIG", str(REPO / "ansible.cfg"))
    for var, sub in (
        ("ANSIBLE_ROLES_PATH", "roles"),
        ("ANSIBLE_LIBRARY", "plugins/modules"),
        ("ANSIBLE_MODULE_UTILS", "plugins/module_utils"),
        ("ANSIBLE_FILTER_PLUGINS", "plugins/filter"),
        ("ANSIBLE_ACTION_PLUGINS", "plugins/action"),
    ):
        env.setdefault(var, str(REPO / sub))
    return env


def _ansible(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=ansible_env(),
        timeout=timeout,
        check=False,
    )


def inventory() -> str:
    return str(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory")


def playbook(name: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return _ansible(
        [
            str(REPO / ".venv/bin/ansible-playbook"),
            "-i",
            inventory(),
            str(REPO / "playbooks" / name),
            *args,
        ],
        timeout,
    )


def module(
    host: str, name: str, args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """ansible <host> -m <name> -a <args> (one-line JSON result on stdout)."""
    return _ansible(
        [str(REPO / ".venv/bin/ansible"), "-i", inventory(), host, "-m", name, "-a", args, "-o"],
        timeout,
    )


def failover_move(host: str, action: str = "standby") -> tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    out = playbook(
        "lustre-failover.yml",
        "-e",
        f"lustre_failover_host={host}",
        "-e",
        f"lustre_failover_action={action}",
    )
    return round(time.monotonic() - start, 1), out


def kill_and_wait(victim: str, timeout: float = 240) -> dict:
    """Kill victim's container (a crash), wait until its partner runs every target of the pair
    (and the targets' MooseFS addresses and daemons).

    Returns {victim, partner, targets, failover_s (kill -> all Started on partner, as
    pacemaker on the partner reports), fenced_back_s (kill -> victim's container running again
    after the partner fenced it with reboot)}.
    """
    partner = next(b if a == victim else a for a, b in PAIRS.values() if victim in (a, b))
    targets = sorted(t for t, (p, f) in TARGETS.items() if victim in (p, f))
    start = time.monotonic()
    subprocess.run(["podman", "kill", "--signal", "KILL", victim], check=True, capture_output=True)
    took = wait_started(partner, [r for t in targets for r in resources(t)], partner, timeout)
    failover = round(time.monotonic() - start, 1) if took is not None else None
    back = None
    while time.monotonic() - start < timeout:
        if running(victim):
            back = round(time.monotonic() - start, 1)
            break
        time.sleep(0.5)
    return {
        "victim": victim,
        "partner": partner,
        "targets": targets,
        "failover_s": failover,
        "fenced_back_s": back,
    }


def wait_member(node: str, asker: str, timeout: float = 240) -> bool:
    """Wait until node is an online member again (as asker sees it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node in online_nodes(asker):
            return True
        time.sleep(1)
    return False


WRITER = r"""
import os, sys, time
directory, log, stop = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(directory, exist_ok=True)
with open(log, "a", buffering=1) as acks:
    i = 0
    while not os.path.exists(stop):
        body = (f"{i}\n" * 4096).encode()
        path = os.path.join(directory, f"{i:06d}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        os.write(fd, body)
        os.fsync(fd)
        os.close(fd)
        # Acknowledged: on the client's own disk, after the fsync returned.
        acks.write(f"{i} {time.time():.3f}\n")
        os.fsync(acks.fileno())
        i += 1
        time.sleep(0.05)
"""


CHECKER = r"""
import sys
bad = []
for i in map(int, sys.argv[2:]):
    try:
        ok = open(f"{sys.argv[1]}/{i:06d}", "rb").read() == (f"{i}\n" * 4096).encode()
    except OSError:
        ok = False
    if not ok:
        bad.append(i)
print(" ".join(map(str, bad)))
"""


class Writer:
    """A numbered stream of fsync'd files written by a user on a client, in the background,
    each acknowledged in a log on the client's own disk once its fsync returned."""

    def __init__(self, client: str, user: str, directory: str) -> None:
        self.client, self.user, self.directory = client, user, directory
        self.log = f"/var/tmp/writer-{os.getpid()}-{int(time.time())}.log"
        self.stop_file = self.log + ".stop"

    def start(self) -> None:
        sh(self.client, f"cat > /var/tmp/jovial-writer.py <<'EOF'\n{WRITER}\nEOF")
        sh(self.client, f"touch {self.log} && chown {self.user} {self.log}")
        subprocess.run(
            ["podman", "exec", "-d", "--user", self.user, self.client, "python3",
             "/var/tmp/jovial-writer.py", self.directory, self.log, self.stop_file],
            check=True, capture_output=True,
        )  # fmt: skip

    def acked(self) -> list[tuple[int, float]]:
        out = sh(self.client, f"cat {self.log}").stdout
        return [(int(a), float(b)) for a, b in (line.split() for line in out.splitlines() if line)]

    def wait_progress(self, count: int, timeout: float = 180) -> bool:
        """Wait until count more files are acknowledged than now."""
        base = len(self.acked())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.acked()) >= base + count:
                return True
            time.sleep(0.5)
        return False

    def stop(self) -> list[tuple[int, float]]:
        sh(self.client, f"touch {self.stop_file}")
        time.sleep(1.5)
        return self.acked()

    def missing(self, acked: list[tuple[int, float]], reader: str) -> list[int]:
        """Acknowledged files that are absent or wrong, as reader (another client) sees them."""
        sh(reader, f"cat > /var/tmp/jovial-check.py <<'EOF'\n{CHECKER}\nEOF")
        numbers = " ".join(str(i) for i, _ in acked)
        check = f"python3 /var/tmp/jovial-check.py {self.directory} {numbers}"
        try:
            out = sh(reader, f"su -s /bin/sh {self.user} -c '{check}'", timeout=300)
        except subprocess.TimeoutExpired as exc:
            seen = sh(reader, "ip neigh show; ss -tno state established; ss -tno state syn-sent")
            raise AssertionError(
                f"reading {len(acked)} files on {reader} took over 300 s; {reader}'s neighbours "
                f"and TCP connections:\n{seen.stdout}"
            ) from exc
        assert out.returncode == 0, out.stderr
        return [int(x) for x in out.stdout.split()]


def capacity(client: str) -> int:
    """Blocks the shared filesystem reports on client: the sum over the chunkservers the
    master has registered (0 while none is, or the client cannot reach the master)."""
    out = sh(client, f"timeout 20 stat -f -c %b {CLIENT_MOUNT}", timeout=30)
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else 0


def wait_capacity(client: str, blocks: int, timeout: float = 180) -> float | None:
    """Seconds until client sees at least blocks again (every chunkserver registered)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if capacity(client) >= blocks:
            return round(time.monotonic() - start, 1)
        time.sleep(1)
    return None


def longest_gap(acked: list[tuple[int, float]]) -> float:
    """The longest time between two acknowledged writes (the time without service)."""
    times = [t for _, t in acked]
    return round(max((b - a for a, b in itertools.pairwise(times)), default=0.0), 1)
