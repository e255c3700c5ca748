"""Helpers shared by the lustre scenario's tests and tests/bench/bench_lustre_failover.py.

Everything runs through `podman exec` on the scenario's nodes, as an operator on the node
would (crm_mon, findmnt, mount), or through the project's playbooks.
"""

from __future__ import annotations

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
             "ms-oss2": "10.78.6.22"}  # fmt: skip
# target resource -> (primary, failover), as molecule.yml's lustre_targets say.
TARGETS = {
    "jovial-mgt0": ("ms-mds1", "ms-mds2"),
    "jovial-mdt0": ("ms-mds1", "ms-mds2"),
    "jovial-ost0": ("ms-oss1", "ms-oss2"),
    "jovial-ost1": ("ms-oss2", "ms-oss1"),
}
MOUNT_ROOT = "/lustre/targets"


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
    """Kill victim's container (a crash), wait until its partner runs every target of the pair.

    Returns {victim, partner, targets, failover_s (kill -> all Started on partner, as
    pacemaker on the partner reports), fenced_back_s (kill -> victim's container running again
    after the partner fenced it with reboot)}.
    """
    partner = next(b if a == victim else a for a, b in PAIRS.values() if victim in (a, b))
    targets = sorted(t for t, (p, f) in TARGETS.items() if victim in (p, f))
    start = time.monotonic()
    subprocess.run(["podman", "kill", "--signal", "KILL", victim], check=True, capture_output=True)
    took = wait_started(partner, targets, partner, timeout)
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
