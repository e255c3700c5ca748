"""The backup store's prune (roles/common/templates/jovial-backup-store-prune.j2), run for real
on a store laid out as the nodes' pushes leave it (<store>/<node>/<backup name>/): the newest
copies of each kind of file are kept, everything else stays, and bad arguments are refused
before anything is removed. The pushes themselves (rrsync -wo -no-del) run in Molecule
jupyterhub (test_recover_node.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = (
    Path(__file__).resolve().parents[3]
    / "roles"
    / "common"
    / "templates"
    / "jovial-backup-store-prune.j2"
)
STAMPS = [f"2026120{day}T021500Z" for day in range(1, 6)]  # oldest first


@pytest.fixture
def prune(tmp_path: Path) -> Path:
    script = tmp_path / "jovial-backup-store-prune"
    text = TEMPLATE.read_text()
    assert text.count("{{") == 1, "the script templates only ansible_managed"
    script.write_text(text.replace("{{ ansible_managed }}", "managed by Ansible"))
    return script


def run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, check=False
    )


def lay_out(store: Path) -> None:
    hub = store / "hub01" / "jupyterhub"
    ldap = store / "ldap01" / "ldap"
    etcd = store / "etcd01" / "etcd"
    for directory in (hub, ldap, etcd):
        directory.mkdir(parents=True)
    for stamp in STAMPS:
        (hub / f"jupyterhub-{stamp}.sqlite").write_text(stamp)
        (hub / f"accounting-{stamp}.sqlite").write_text(stamp)
        (ldap / f"data-{stamp}.ldif.gz").write_text(stamp)
        (ldap / f"config-{stamp}.ldif.gz").write_text(stamp)
        (etcd / f"etcd-etcd01-{stamp}.db").write_text(stamp)
    (hub / "notes.txt").write_text("an operator's file")
    (ldap / "data-latest.ldif.gz").write_text("not stamped")


def names(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir()}


def test_the_newest_copies_of_each_kind_are_kept_and_nothing_else_is_touched(prune, tmp_path):
    store = tmp_path / "store"
    lay_out(store)
    out = run(prune, str(store), "2")
    assert out.returncode == 0, out.stderr
    newest = STAMPS[-2:]
    assert names(store / "hub01" / "jupyterhub") == {
        *(f"jupyterhub-{s}.sqlite" for s in newest),
        *(f"accounting-{s}.sqlite" for s in newest),
        "notes.txt",
    }
    assert names(store / "ldap01" / "ldap") == {
        *(f"data-{s}.ldif.gz" for s in newest),
        *(f"config-{s}.ldif.gz" for s in newest),
        "data-latest.ldif.gz",
    }
    assert names(store / "etcd01" / "etcd") == {f"etcd-etcd01-{s}.db" for s in newest}
    # It says what it removed: 3 old copies of each of the 5 kinds.
    assert len(out.stdout.splitlines()) == 15
    assert f"removed {store}/hub01/jupyterhub/jupyterhub-{STAMPS[0]}.sqlite" in out.stdout
    # A second run has nothing left to remove.
    again = run(prune, str(store), "2")
    assert again.returncode == 0 and again.stdout == ""


@pytest.mark.parametrize("args", [[], ["0"], ["-1"], ["two"], ["2", "extra"]])
def test_bad_arguments_are_refused_before_anything_is_removed(prune, tmp_path, args):
    store = tmp_path / "store"
    lay_out(store)
    before = sorted(p.name for p in store.rglob("*"))
    out = run(prune, str(store), *args)
    assert out.returncode != 0
    assert "usage: jovial-backup-store-prune <store dir> <copies to keep, at least 1>" in out.stderr
    assert sorted(p.name for p in store.rglob("*")) == before
