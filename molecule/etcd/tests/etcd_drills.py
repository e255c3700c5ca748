"""Drill helpers shared by the etcd scenario's tests and tests/bench/bench_etcd.py.

Everything runs through `podman exec` on the scenario's members, with root's etcdctl
environment (/etc/profile.d/etcdctl.sh, a login shell), as an operator would.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

MEMBERS = {"me-etcd1": "10.78.2.11", "me-etcd2": "10.78.2.12", "me-etcd3": "10.78.2.13"}
REPO = Path(__file__).resolve().parents[3]


def sh(node: str, script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run script in a login shell (root's ETCDCTL_* environment) on node."""
    return subprocess.run(
        ["podman", "exec", node, "bash", "-lc", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def etcdctl_json(node: str, args: str) -> Any:
    out = sh(node, f"etcdctl -w json {args}")
    assert out.returncode == 0, f"{node}: etcdctl {args}: {out.stderr}"
    return json.loads(out.stdout)


def statuses(node: str) -> list[dict[str, Any]]:
    """endpoint status --cluster, one dict per member that answered."""
    out = sh(node, "etcdctl -w json --command-timeout=3s endpoint status --cluster")
    return json.loads(out.stdout) if out.stdout.strip() else []


def leader(node: str) -> str:
    """The container name of the current leader (asked through node)."""
    for status in statuses(node):
        s = status["Status"]
        if s["header"]["member_id"] == s["leader"]:
            address = status["Endpoint"].split("//")[1].split(":")[0]
            return next(n for n, a in MEMBERS.items() if a == address)
    raise AssertionError(f"no leader seen from {node}")


def healthy_members(node: str) -> list[str]:
    out = sh(node, "etcdctl -w json --command-timeout=3s endpoint health --cluster")
    if not out.stdout.strip():
        return []
    addrs = [
        h["endpoint"].split("//")[1].split(":")[0] for h in json.loads(out.stdout) if h["health"]
    ]
    return sorted(n for n, a in MEMBERS.items() if a in addrs)


def hashkv(node: str) -> dict[str, tuple[int, int]]:
    """endpoint -> (hash, revision) of every member."""
    data = etcdctl_json(node, "endpoint hashkv --cluster")
    return {d["Endpoint"]: (d["HashKV"]["hash"], d["HashKV"]["header"]["revision"]) for d in data}


# A writer on one member: one `etcdctl put` every 100 ms, each logged with its outcome and the
# time it was acknowledged, to every member's endpoint (the client fails over by itself).
WRITER = r"""
prefix={prefix}; end=$(( $(date +%s) + {seconds} )); i=0
while [ "$(date +%s)" -lt "$end" ]; do
  i=$((i+1))
  if etcdctl --command-timeout=1s --dial-timeout=1s put "$prefix/$i" "$i" >/dev/null 2>&1; then
    echo "$i $(date +%s.%N) ok"
  else
    echo "$i $(date +%s.%N) fail"
  fi
  sleep 0.1
done
"""


def leader_loss_drill(prefix: str, seconds: int = 14, kill_after: float = 4.0) -> dict[str, Any]:
    """Kill the leader (SIGKILL) while a client on another member writes every 100 ms.

    Returns the acknowledged keys, what each member holds afterwards, and the longest gap
    between two acknowledged writes around the kill.
    """
    old_leader = leader("me-etcd1")
    writer_node = next(n for n in MEMBERS if n != old_leader)
    writer = subprocess.Popen(
        [
            "podman",
            "exec",
            writer_node,
            "bash",
            "-lc",
            WRITER.format(prefix=prefix, seconds=seconds),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(kill_after)
    killed_at = time.time()
    subprocess.run(
        ["podman", "exec", old_leader, "systemctl", "kill", "--signal=SIGKILL", "etcd"],
        check=True,
        capture_output=True,
    )
    out, _err = writer.communicate(timeout=seconds + 60)
    rows = [line.split() for line in out.splitlines() if line.strip()]
    acked = [(int(i), float(t)) for i, t, result in rows if result == "ok"]
    times = [t for _i, t in acked]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return {
        "old_leader": old_leader,
        "writer": writer_node,
        "killed_at": killed_at,
        "attempts": len(rows),
        "acked": [i for i, _t in acked],
        "acked_after_kill": sum(1 for _i, t in acked if t > killed_at + 0.5),
        "failed": [int(i) for i, _t, result in rows if result != "ok"],
        "longest_gap_s": round(max(gaps), 3) if gaps else None,
    }


# etcdctl against this member only (root's certificates, its loopback endpoint).
LOCAL = "env -u ETCDCTL_ENDPOINTS etcdctl --endpoints=https://127.0.0.1:2379"


def local_keys(node: str, prefix: str) -> list[str]:
    """Keys under prefix/ in node's own store (serializable read: no quorum involved)."""
    out = sh(node, f"{LOCAL} --consistency=s get --prefix --keys-only {prefix}/")
    assert out.returncode == 0, out.stderr
    return sorted(out.stdout.split())


def keys_on(node: str, prefix: str, expected: set[int] | None = None) -> set[int]:
    """Numbered keys under prefix/ that node holds; with expected, wait (up to 30 s) for a
    member that is still catching up, then return what it holds."""
    deadline = time.monotonic() + 30
    while True:
        held = {int(k.rsplit("/", 1)[1]) for k in local_keys(node, prefix)}
        if expected is None or expected <= held or time.monotonic() > deadline:
            return held
        time.sleep(1)


def wait_healthy(node: str, members: list[str], timeout: float = 90) -> list[str]:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        seen = healthy_members(node)
        if seen == sorted(members):
            return seen
        time.sleep(1)
    return seen


def ansible_env() -> dict[str, str]:
    """The environment `make molecule` gives Ansible (our roles and plugins)."""
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_ROLES_PATH": str(REPO / "roles"),
            "ANSIBLE_LIBRARY": str(REPO / "plugins" / "modules"),
            "ANSIBLE_MODULE_UTILS": str(REPO / "plugins" / "module_utils"),
            "ANSIBLE_FILTER_PLUGINS": str(REPO / "plugins" / "filter"),
            "ANSIBLE_ACTION_PLUGINS": str(REPO / "plugins" / "action"),
            "ANSIBLE_CALLBACK_PLUGINS": str(REPO / "plugins" / "callback"),
            "ANSIBLE_INVENTORY_PLUGINS": str(REPO / "plugins" / "inventory"),
            "ANSIBLE_FORCE_COLOR": "0",
        }
    )
    return env


def playbook_cmd(name: str) -> list[str]:
    """argv of ansible-playbook playbooks/<name> against the Molecule inventory."""
    inventory = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "inventory"
    return [
        str(REPO / ".venv" / "bin" / "ansible-playbook"),
        "-i",
        str(inventory),
        str(REPO / "playbooks" / name),
    ]


def playbook(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ansible-playbook playbooks/<name> against the Molecule inventory."""
    return subprocess.run(
        [*playbook_cmd(name), *args],
        capture_output=True,
        text=True,
        env=ansible_env(),
        cwd=REPO,
        check=False,
        timeout=900,
    )
