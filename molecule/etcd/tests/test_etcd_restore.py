"""Drill (d): the whole cluster rebuilt from a snapshot with playbooks/etcd-restore.yml.

Runs after test_etcd.py (pytest takes the files in name order) on the cluster its drills left
healthy. Keys are written, playbooks/etcd-backup.yml fetches a snapshot, then the cluster
moves on (more keys, a deleted key) and one member loses its data. The restore must refuse
without the confirmation phrase (changing nothing), then with it bring back every member
holding exactly the keys of the snapshot, and leave the cluster healthy and writable.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from etcd_drills import MEMBERS, hashkv, healthy_members, playbook, sh, wait_healthy
from jovial_fixtures import wait_for

ALL = sorted(MEMBERS)
PREFIX = "drill/d"
PHRASE = "replace-all-etcd-data"
# etcdctl against this member only: what a member holds, not what the leader says.
LOCAL = "env -u ETCDCTL_ENDPOINTS etcdctl --endpoints=https://127.0.0.1:2379"


def all_keys(node: str) -> list[str]:
    """Every key in node's own store (serializable read, no quorum involved)."""
    out = sh(node, f"{LOCAL} --consistency=s get '' --prefix --keys-only")
    assert out.returncode == 0, f"{node}: {out.stderr}"
    return sorted(out.stdout.split())


def value(node: str, key: str) -> str:
    out = sh(node, f"{LOCAL} --consistency=s get --print-value-only {key}")
    assert out.returncode == 0, f"{node}: {out.stderr}"
    return out.stdout.strip()


def cluster_id(node: str) -> int:
    status = json.loads(sh(node, f"{LOCAL} -w json endpoint status").stdout)
    return status[0]["Status"]["header"]["cluster_id"]


def put(node: str, key: str, val: str) -> None:
    out = sh(node, f"etcdctl put {key} {val}")
    assert out.returncode == 0, f"{node}: put {key}: {out.stderr}"


def test_drill_d_restore_from_a_snapshot_brings_back_exactly_its_keys():
    writer, wiped = "me-etcd1", "me-etcd2"
    assert healthy_members(writer) == ALL
    for i in range(20):
        put(writer, f"{PREFIX}/kept/{i:02d}", f"v{i}")
    put(writer, f"{PREFIX}/changed", "before-snapshot")
    in_snapshot = all_keys(writer)
    assert f"{PREFIX}/kept/19" in in_snapshot

    backup = playbook("etcd-backup.yml")
    assert backup.returncode == 0, backup.stdout[-3000:]
    found = re.search(r"Snapshot (\S+\.db) \(sha256", backup.stdout)
    assert found, backup.stdout[-2000:]
    snapshot = found.group(1)
    assert Path(snapshot).is_file()
    assert Path(snapshot).parent == Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / (
        "etcd-backups"
    )

    # Life goes on after the snapshot: new keys, a changed value, a deleted key ...
    for i in range(5):
        put(writer, f"{PREFIX}/after/{i}", "x")
    put(writer, f"{PREFIX}/changed", "after-snapshot")
    assert sh(writer, f"etcdctl del {PREFIX}/kept/00").returncode == 0
    # ... and one member's data is destroyed.
    assert sh(wiped, "systemctl stop etcd && rm -rf /var/lib/etcd/data").returncode == 0
    before_ids = {cluster_id(n) for n in ALL if n != wiped}

    # Without the confirmation phrase: refused, nothing changed.
    refused = playbook("etcd-restore.yml", "-e", f"etcd_restore_snapshot={snapshot}")
    assert refused.returncode != 0
    assert "replaces the data of EVERY etcd member" in refused.stdout + refused.stderr, (
        refused.stdout[-3000:] + refused.stderr[-3000:]
    )
    assert value(writer, f"{PREFIX}/changed") == "after-snapshot"
    assert sh(writer, "systemctl is-active etcd").stdout.strip() == "active"

    restored = playbook(
        "etcd-restore.yml",
        "-e",
        f"etcd_restore_snapshot={snapshot}",
        "-e",
        f"etcd_restore_confirm={PHRASE}",
    )
    assert restored.returncode == 0, restored.stdout[-4000:]

    assert wait_healthy(writer, ALL) == ALL
    members = json.loads(sh(writer, "etcdctl -w json member list").stdout)["members"]
    assert sorted(m["name"] for m in members) == ALL
    assert not any(m.get("isLearner") for m in members)
    # Every member, including the wiped one, holds exactly the snapshot's keys and values.
    for name in ALL:
        assert all_keys(name) == in_snapshot, name
        assert value(name, f"{PREFIX}/changed") == "before-snapshot", name
        assert value(name, f"{PREFIX}/kept/00") == "v0", name
    hashes = hashkv(writer)
    assert len(hashes) == 3 and len(set(hashes.values())) == 1, hashes
    # A restore makes a new cluster (new cluster ID), so no old member can rejoin by mistake.
    assert {cluster_id(n) for n in ALL} != before_ids
    assert len({cluster_id(n) for n in ALL}) == 1
    # The old data was kept aside on the members that had some.
    kept = sh(writer, "ls -d /var/lib/etcd/data.before-restore-*")
    assert kept.returncode == 0, kept.stderr
    # The restored cluster takes writes, replicated to every member.
    put(writer, f"{PREFIX}/after-restore", "ok")
    for name in ALL:
        assert wait_for(lambda n=name: f"{PREFIX}/after-restore" in all_keys(n), timeout=15), name
