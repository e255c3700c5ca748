"""Jovial's Dask Gateway backend (src/jovial_dask/gateway.py): the user's directory groups,
working directories that change nothing outside themselves, the per-user cluster limit and
the owners whose server has stopped."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from jovial_dask import gateway


def _pw(name, uid, gid, home="/lustre/home/x"):
    return SimpleNamespace(pw_name=name, pw_uid=uid, pw_gid=gid, pw_dir=home)


def test_groups_come_from_nss_initgroups_primary_first_without_duplicates():
    calls = []

    def getgrouplist(name, gid):
        calls.append((name, gid))
        return [10100, 10000, 10100, 10200]

    uid, gid, groups = gateway.supplementary_groups(
        "ada", getpwnam=lambda n: _pw(n, 10001, 10100), getgrouplist=getgrouplist
    )
    assert (uid, gid) == (10001, 10100)
    assert groups == [10100, 10000, 10200]
    assert calls == [("ada", 10100)]


def test_an_unknown_user_is_named_with_where_to_look():
    def missing(name):
        raise KeyError(name)

    with pytest.raises(
        LookupError, match=r"'eve' is not known on the gateway host.*getent passwd eve"
    ):
        gateway.supplementary_groups("eve", getpwnam=missing, getgrouplist=lambda n, g: [])


def test_workdir_belongs_to_the_user_and_nothing_else_changes(tmp_path, monkeypatch):
    root = tmp_path / "clusters"
    root.mkdir(mode=0o711)
    before = os.stat(root), os.stat(tmp_path)
    chowned = []
    monkeypatch.setattr(
        gateway.os, "chown", lambda path, uid, gid, follow_symlinks=True: chowned.append(path)
    )
    workdir, cert, key = gateway.prepare_workdir(str(root), "c1", b"CERT", b"KEY", 10001, 10100)
    assert workdir == str(root / "c1")
    # Exactly the cluster's own directories and files: never "/" or a parent (upstream's
    # paths.extend(path) hands the characters of the key's path, "/" first, to chown).
    assert sorted(chowned) == sorted([workdir, f"{workdir}/.certs", f"{workdir}/logs", cert, key])
    assert all(p.startswith(workdir) for p in chowned)
    for d in (workdir, f"{workdir}/.certs", f"{workdir}/logs"):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert Path(cert).read_bytes() == b"CERT" and Path(key).read_bytes() == b"KEY"
    after = os.stat(root), os.stat(tmp_path)
    assert [(s.st_uid, s.st_mode) for s in after] == [(s.st_uid, s.st_mode) for s in before]


def test_an_existing_workdir_is_never_reused(tmp_path):
    (tmp_path / "c1").mkdir()
    with pytest.raises(FileExistsError):
        gateway.prepare_workdir(str(tmp_path), "c1", b"C", b"K", os.getuid(), os.getgid())


def test_backend_working_directory_setup_uses_the_safe_path(tmp_path, monkeypatch):
    """The backend's override replaces upstream's setup (which chowns "/")."""
    pytest.importorskip("dask_gateway_server", reason="the dask extra is not installed")
    chowned = []
    monkeypatch.setattr(
        gateway.os, "chown", lambda path, uid, gid, follow_symlinks=True: chowned.append(path)
    )
    monkeypatch.setattr(
        gateway, "supplementary_groups", lambda name: (os.getuid(), os.getgid(), [os.getgid()])
    )
    backend = gateway.JovialLocalBackend(clusters_directory=str(tmp_path))
    cluster = SimpleNamespace(username="ada", name="abc", tls_cert=b"C", tls_key=b"K")
    workdir = backend.setup_working_directory(cluster)
    assert workdir == str(tmp_path / "abc")
    assert chowned and all(p.startswith(workdir) for p in chowned)
    assert "/" not in chowned


def test_backend_without_a_clusters_directory_says_what_to_set():
    pytest.importorskip("dask_gateway_server", reason="the dask extra is not installed")
    backend = gateway.JovialLocalBackend()
    cluster = SimpleNamespace(username="ada", name="abc", tls_cert=b"C", tls_key=b"K")
    with pytest.raises(ValueError, match="clusters_directory is not set"):
        backend.setup_working_directory(cluster)


@pytest.mark.parametrize(
    ("running", "limit", "refused"),
    [
        ([], 1, False),
        (["a"], 2, False),
        (["a"], 1, True),
        (["a", "b", "c"], 2, True),
        (["a"] * 9, 0, False),
    ],
)
def test_cluster_limit(running, limit, refused):
    message = gateway.cluster_limit_message("ada", running, limit)
    assert (message is not None) == refused
    if refused:
        assert f"ada already runs {len(running)} Dask cluster(s)" in message
        assert f"the limit is {limit} per user" in message
        assert "cluster.shutdown()" in message


def test_owners_without_a_running_or_starting_server():
    users = {
        "ada": {"servers": {"": {"ready": True, "pending": None}}},
        "bruno": {"servers": {}},
        "cleo": {"servers": {"": {"ready": False, "pending": "spawn"}}},
        "dan": {"servers": {"": {"ready": False, "pending": "stop"}}},
        "gone": None,  # deleted from the hub
    }
    owners = ["ada", "bruno", "cleo", "dan", "gone", "unasked"]
    # "unasked": the hub did not answer about them: never stopped on a failed check.
    assert gateway.owners_without_server(owners, users) == {"bruno", "dan", "gone"}
