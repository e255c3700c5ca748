"""Home directories: created once, owned by the user, never for root or outside the root."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from jovial_hub import homes

# Homes are created as root for another uid, exactly as the hub does; CI runs as root.
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="creating a home owned by another uid needs root, as the hub has"
)
UID, GID = 12345, 12346


def _acct(tmp_path: Path, name: str = "alice", uid: int = UID) -> homes.Account:
    return homes.Account(name, uid, GID, tmp_path / "home" / name)


def test_missing_home_is_created_private_and_owned_by_the_user(tmp_path):
    acct = _acct(tmp_path)
    assert homes.ensure_home(acct, tmp_path / "home", min_uid=10000) is True
    st = acct.home.stat()
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert (st.st_uid, st.st_gid) == (acct.uid, acct.gid)


def test_existing_home_and_its_files_are_left_alone(tmp_path):
    acct = _acct(tmp_path)
    acct.home.mkdir(parents=True, mode=0o755)
    (acct.home / "thesis.ipynb").write_text("{}")
    assert homes.ensure_home(acct, tmp_path / "home", min_uid=10000) is False
    assert (acct.home / "thesis.ipynb").read_text() == "{}"
    assert stat.S_IMODE(acct.home.stat().st_mode) == 0o755


def test_root_and_system_accounts_are_refused(tmp_path):
    with pytest.raises(homes.HomeError, match="uid 0, below the minimum 10000"):
        homes.ensure_home(_acct(tmp_path, "root", uid=0), tmp_path / "home", min_uid=10000)
    with pytest.raises(homes.HomeError, match="uid 999"):
        homes.ensure_home(_acct(tmp_path, "daemon", uid=999), tmp_path / "home", min_uid=1000)


@pytest.mark.parametrize("home", ["/etc/cron.d", "{root}", "{root}/../escape"])
def test_home_outside_the_allowed_root_is_refused(tmp_path, home):
    root = tmp_path / "home"
    acct = homes.Account("mallory", UID, GID, Path(home.format(root=root)))
    with pytest.raises(homes.HomeError, match="outside"):
        homes.ensure_home(acct, root, min_uid=10000)
    assert not Path("/etc/cron.d/mallory").exists()


def test_unknown_user_names_the_commands_to_check():
    def getpwnam(name):
        raise KeyError(name)

    with pytest.raises(homes.HomeError, match=r"getent passwd ghost"):
        homes.account("ghost", getpwnam=getpwnam)


def test_hook_creates_the_home_of_the_spawning_user(tmp_path, monkeypatch):
    acct = _acct(tmp_path, "bob")
    monkeypatch.setattr(homes, "account", lambda name: acct if name == "bob" else None)
    logged = []
    spawner = SimpleNamespace(
        user=SimpleNamespace(name="bob"),
        log=SimpleNamespace(info=lambda *a: logged.append(a)),
    )
    homes.pre_spawn_hook(str(tmp_path / "home"), min_uid=10000)(spawner)
    assert acct.home.is_dir()
    assert logged and logged[0][1] == acct.home
