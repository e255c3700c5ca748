"""Shared testinfra fixtures for the Molecule scenarios.

Each scenario's tests/conftest.py imports these. Nodes are reached with testinfra's podman
backend (one `podman exec` per command), and the scenario's groups and variables come from
the inventory Molecule wrote, so tests name nodes and groups the way an operator would.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import testinfra
import yaml


def _inventory() -> dict[str, Any]:
    path = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory" / "ansible_inventory.yml"
    return yaml.safe_load(path.read_text())


def _walk(group: dict[str, Any], name: str, groups: dict[str, set[str]], hosts: dict) -> None:
    members = groups.setdefault(name, set())
    for host, hvars in (group.get("hosts") or {}).items():
        members.add(host)
        hosts.setdefault(host, {}).update(hvars or {})
    for child, cdata in (group.get("children") or {}).items():
        _walk(cdata or {}, child, groups, hosts)
        members.update(groups[child])


@pytest.fixture(scope="session")
def inventory() -> dict[str, Any]:
    """{'groups': {group: sorted hosts}, 'hostvars': {host: vars}} of the scenario."""
    groups: dict[str, set[str]] = {}
    hostvars: dict[str, dict[str, Any]] = {}
    _walk(_inventory().get("all", {}), "all", groups, hostvars)
    return {"groups": {g: sorted(h) for g, h in groups.items()}, "hostvars": hostvars}


@pytest.fixture(scope="session")
def node() -> Callable[[str], testinfra.host.Host]:
    """node('name') -> a testinfra host for that container."""
    cache: dict[str, testinfra.host.Host] = {}

    def get(name: str) -> testinfra.host.Host:
        if name not in cache:
            cache[name] = testinfra.get_host(f"podman://{name}")
        return cache[name]

    return get


def wait_for(check: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """Poll check() until it returns a truthy value; return it, or the last falsy one.

    Used to wait for things that converge (a time source selected, a VIP moved); the test
    then asserts on the value, so a timeout is a failure with the real last state.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() >= deadline:
            return result
        time.sleep(interval)


def run_playbook(
    playbook: str, *args: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """ansible-playbook <playbook> against the scenario's inventory, from the project
    directory, as an operator would run it (the caller asserts on rc and output); env: extra
    environment variables (e.g. JOVIAL_HEALTH_REPORT)."""
    inventory = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"
    project = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
    return subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(project / playbook), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        cwd=project,
        timeout=timeout,
        check=False,
    )


PORTSCAN = Path(__file__).resolve().parent / "portscan.py"


def port_scan(runner: list[str], addresses: list[str]) -> dict[str, list[int]]:
    """{address: open TCP ports} as seen from where runner runs ``python3 -`` (portscan.py).

    runner: ``[sys.executable, "-"]`` for the control node, ``["podman", "exec", "-i", NODE,
    "python3", "-"]`` for a node, or a ``podman run --rm -i --network ... --ip ...`` for an
    outsider on the scenario network.
    """
    out = subprocess.run(
        runner + addresses, stdin=PORTSCAN.open(), capture_output=True, text=True, timeout=180
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def outsider(network: str, address: str) -> list[str]:
    """A portscan runner on the scenario network at address: in no group, not the control
    node (a throwaway container of the node image)."""
    image = os.environ.get("JOVIAL_BASE_IMAGE", "localhost/jovial-base:latest")
    return ["podman", "run", "--rm", "-i", "--network", network, "--ip", address, image,
            "python3", "-"]  # fmt: skip


def dropped_packets(chain: str) -> int:
    """Packets counted by the default-deny rule of `nft list chain inet jovial input`."""
    drops = [line for line in chain.splitlines() if line.strip().endswith("drop")]
    assert drops, f"no drop rule in the chain:\n{chain}"
    return int(drops[-1].split("packets ")[1].split()[0])
