"""Users' home directories on the shared filesystem, made right before their first server.

The systemd backend runs each user's server with the home directory the directory service
(SSSD) reports; on a new account that directory does not exist yet. The hub (root) creates
it owned by the user's uid and primary gid, mode 0700, and never touches an existing one:
an existing home is the user's data, whatever its ownership.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class HomeError(RuntimeError):
    """A home directory cannot be used for this user; the message says why and what to do."""


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: Path


def account(name: str, getpwnam: Callable[[str], Any] = pwd.getpwnam) -> Account:
    """The user's account as the node resolves it (SSSD on every Jovial node)."""
    try:
        entry = getpwnam(name)
    except KeyError as exc:
        raise HomeError(
            f"user {name!r} is not known on this node; check the directory (getent passwd {name})"
            " and SSSD (sssctl user-checks)"
        ) from exc
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


def ensure_home(acct: Account, allowed_root: Path, min_uid: int) -> bool:
    """Create ``acct.home`` (0700, owned by the user) if missing; True when created.

    Refuses (HomeError) a uid below ``min_uid`` (never root or a system account) and a home
    outside ``allowed_root`` (a directory entry must not make the hub create /etc/...).
    """
    if acct.uid < min_uid or acct.uid == 0:
        raise HomeError(
            f"user {acct.name!r} has uid {acct.uid}, below the minimum {min_uid}; "
            "servers never run as root or system accounts: give the user a uidNumber in range"
        )
    home = Path(os.path.normpath(acct.home))
    root = Path(os.path.normpath(allowed_root))
    if home == root or root not in home.parents:
        raise HomeError(
            f"user {acct.name!r} has home {str(acct.home)!r}, outside {str(root)!r}; "
            "fix homeDirectory in the directory"
        )
    if home.exists():
        return False
    home.parent.mkdir(parents=True, exist_ok=True)
    home.mkdir(mode=0o700)
    os.chown(home, acct.uid, acct.gid)
    home.chmod(0o700)
    return True


def pre_spawn_hook(allowed_root: str, min_uid: int) -> Callable[[Any], None]:
    """A Spawner.pre_spawn_hook that makes the user's home before the server starts."""

    def hook(spawner: Any) -> None:
        acct = account(spawner.user.name)
        if ensure_home(acct, Path(allowed_root), min_uid):
            spawner.log.info("created home %s for %s", acct.home, acct.name)

    return hook
