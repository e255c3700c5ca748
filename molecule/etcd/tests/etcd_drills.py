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


# etcdctl against this member only (root's certificates, its loopback endpoint).
LOCAL = "env -u ETCDCTL_ENDPOINTS etcdctl --endpoints=https://127.0.0.1:2379"


def local_status(node: str) -> dict[str, int] | None:
    """node's own view (member ID, leader ID, cluster ID, term), or None if it does not answer."""
    out = sh(node, f"{LOCAL} -w json --dial-timeout=1s --command-timeout=2s endpoint status", 15)
    if out.returncode != 0 or not out.stdout.strip():
        return None
    status = json.loads(out.stdout)[0]["Status"]
    return {
        "member_id": status["header"]["member_id"],
        "cluster_id": status["header"]["cluster_id"],
        "leader": status.get("leader", 0),  # absent while there is none
        "raft_term": status["raftTerm"],
    }


def etcd_down(node: str) -> bool:
    """No etcd process on node and systemd not (re)starting one."""
    state = sh(node, "systemctl is-active etcd").stdout.strip()
    return state in ("inactive", "failed") and sh(node, "pgrep -x etcd").returncode == 1


def restart_window(node: str) -> tuple[float, float]:
    """(epoch) times of etcd's last restart on node: systemd began stopping it, it was ready."""
    out = sh(
        node,
        "systemctl show -p ActiveExitTimestampMonotonic -p ActiveEnterTimestampMonotonic etcd; "
        "python3 -c 'import time; print(time.time() - time.monotonic())'",
    )
    lines = out.stdout.split()
    props = dict(line.split("=") for line in lines[:2])
    offset = float(lines[2])
    return (
        int(props["ActiveExitTimestampMonotonic"]) / 1e6 + offset,
        int(props["ActiveEnterTimestampMonotonic"]) / 1e6 + offset,
    )


# A writer on one member: one `etcdctl put` every 100 ms, each logged with its outcome, the
# time it was acknowledged and, on failure, etcdctl's error. It stops after `seconds` or when
# the stop file exists. The client is root's etcdctl (every member's endpoint; it fails over by
# itself) unless another is given.
WRITER = r"""
prefix={prefix}; end=$(( $(date +%s) + {seconds} )); i=0
while [ "$(date +%s)" -lt "$end" ] && [ ! -e {stop} ]; do
  i=$((i+1))
  if err=$({etcdctl} --command-timeout={timeout} --dial-timeout=1s \
      put "$prefix/$i" "$i" 2>&1 >/dev/null); then
    echo "$i $(date +%s.%N) ok"
  else
    echo "$i $(date +%s.%N) fail $err" | tr '\n' ' '; echo
  fi
  sleep 0.1
done
"""


def start_writer(
    node: str,
    prefix: str,
    seconds: int,
    etcdctl: str = "etcdctl",
    timeout: str = "1s",
    stop: str = "/nonexistent",
) -> subprocess.Popen[str]:
    script = WRITER.format(
        prefix=prefix, seconds=seconds, etcdctl=etcdctl, timeout=timeout, stop=stop
    )
    return subprocess.Popen(
        ["podman", "exec", node, "bash", "-lc", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def writer_rows(writer: subprocess.Popen[str], timeout: float) -> list[tuple[int, float, str]]:
    """(key number, time, 'ok' or 'fail <error>') of every write the writer attempted."""
    out, _err = writer.communicate(timeout=timeout)
    rows = [line.split(maxsplit=2) for line in out.splitlines() if line.strip()]
    return [(int(i), float(t), result) for i, t, result in rows]


def leader_loss_drill(
    prefix: str, seconds: int = 14, kill_after: float = 4.0, down_for: float = 5.0
) -> dict[str, Any]:
    """Kill the leader (SIGKILL) while a client on another member writes every 100 ms.

    The old leader is kept down (its pending systemd restart cancelled) while the survivors
    are asked who leads, and until `down_for` s after the kill; then the drill starts it again.
    Returns the acknowledged keys, the leader the survivors elected and whether the old leader
    was still down when it was seen, the writes acknowledged while it was down, and the longest
    gap between two acknowledged writes around the kill.
    """
    old_leader = leader("me-etcd1")
    old_status = local_status(old_leader)
    assert old_status and old_status["leader"] == old_status["member_id"], old_status
    old_id = old_status["member_id"]
    survivors = [n for n in MEMBERS if n != old_leader]
    writer_node = survivors[0]
    writer = start_writer(writer_node, prefix, seconds)
    time.sleep(kill_after)
    killed_at = time.time()
    # SIGKILL: no graceful leadership hand-over. The stop that follows cancels the restart
    # systemd schedules (Restart=on-failure, RestartSec=3s): the member stays down until the
    # drill starts it.
    subprocess.run(
        ["podman", "exec", old_leader, "bash", "-c",
         "systemctl kill --signal=SIGKILL etcd && systemctl stop etcd"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    try:
        down_since = time.time()
        old_down_after_kill = etcd_down(old_leader)
        # Who do the survivors follow? Asked of each survivor's own endpoint until one names a
        # leader that is not the old one.
        new_leader_id, new_leader_seen_at = None, None
        deadline = time.monotonic() + down_for + 10
        while new_leader_id is None and time.monotonic() < deadline:
            for node in survivors:
                status = local_status(node)
                if status and status["leader"] not in (0, old_id):
                    new_leader_id, new_leader_seen_at = status["leader"], time.time()
                    break
            else:
                time.sleep(0.2)
        old_down_when_new_leader_seen = etcd_down(old_leader)
        time.sleep(max(0.0, down_since + down_for - time.time()))
        old_down_until_restart = etcd_down(old_leader)
    finally:  # the old leader comes back whatever happened above
        restarted_at = time.time()
        subprocess.run(
            ["podman", "exec", old_leader, "systemctl", "start", "--no-block", "etcd"],
            check=True,
            capture_output=True,
        )
    rows = writer_rows(writer, seconds + 60)
    acked = [(i, t) for i, t, result in rows if result == "ok"]
    times = [t for _i, t in acked]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    ids = {}
    for node in survivors:
        status = local_status(node)
        if status:
            ids[status["member_id"]] = node
    return {
        "old_leader": old_leader,
        "old_leader_id": old_id,
        "survivors": survivors,
        "new_leader": ids.get(new_leader_id, new_leader_id),
        "new_leader_id": new_leader_id,
        "new_leader_seen_after_s": (
            round(new_leader_seen_at - down_since, 3) if new_leader_seen_at else None
        ),
        # The old leader's process was gone (and not being restarted) right after the kill,
        # when the new leader was seen, and until the drill started it again.
        "old_leader_down": old_down_after_kill
        and old_down_when_new_leader_seen
        and old_down_until_restart,
        "writer": writer_node,
        "killed_at": killed_at,
        "attempts": len(rows),
        "acked": [i for i, _t in acked],
        # Acknowledged by the survivors alone: after the kill returned, before the restart.
        "acked_while_down": [i for i, t in acked if down_since < t < restarted_at],
        "failed": [i for i, _t, result in rows if result != "ok"],
        "longest_gap_s": round(max(gaps), 3) if gaps else None,
    }


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
