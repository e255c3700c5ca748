"""A user's POSIX identity from the directory: uid, gid, supplementary gids, home.

The same numbers own the user's files on Lustre, their processes on every node (SSSD) and
their notebook pod, so the hub looks them up in LDAP at spawn time rather than trusting
anything the browser sent.

Two layers:

- pure functions (``identity_from_entries``, ``user_filter``, ``groups_filter``) that turn LDAP
  entries (attribute name -> list of values, as ldap3's ``entry_attributes_as_dict`` gives
  them) into an :class:`Identity`, tested with literal entries;
- :func:`lookup_identity`, which binds with the read-only service account over TLS verified
  against the site CA (and its CRL when :attr:`LdapSettings.crl_file` is set), trying each URI
  of :attr:`LdapSettings.uris` in order (failover), and feeds the entries to the pure
  functions.

Nothing returned here can carry uid 0 or a uid below :attr:`LdapSettings.min_uid`: a notebook
never runs as root or as a system account.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ldap3.utils.conv import escape_filter_chars

__all__ = [
    "DirectoryUnavailable",
    "Identity",
    "IdentityError",
    "InvalidEntry",
    "LdapSettings",
    "UidNotAllowed",
    "UserNotFound",
    "groups_filter",
    "identity_from_entries",
    "lookup_identity",
    "user_filter",
]

# Attributes read from the directory (RFC 2307 posixAccount / posixGroup).
USER_ATTRIBUTES = ("uid", "uidNumber", "gidNumber", "homeDirectory")
GROUP_ATTRIBUTES = ("cn", "gidNumber")


class IdentityError(Exception):
    """A user's identity cannot be used to start a server (the message says why and the fix)."""


class UserNotFound(IdentityError):
    """No posixAccount with this uid under the user search base."""


class InvalidEntry(IdentityError):
    """The user's entry lacks a POSIX attribute or has one that is not usable."""


class UidNotAllowed(IdentityError):
    """uid or gid is 0 (root) or below the site's minimum: never run a server with it."""


class DirectoryUnavailable(IdentityError):
    """None of the LDAP URIs answered (or the service account could not bind)."""


@dataclass(frozen=True)
class Identity:
    """What a user's server runs as. ``groups`` are the supplementary gids (sorted, without
    the primary gid); ``group_names`` the names of the primary and supplementary groups that
    were found, in the same order as ``(gid, *groups)`` minus any without a group entry."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str
    group_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class LdapSettings:
    """How the hub reaches the directory. ``uris`` are tried in order (``ldaps://`` or
    ``ldap://`` with StartTLS); the certificate is always verified against ``ca_file``, and
    checked against the CRL in ``crl_file`` when that is set."""

    uris: tuple[str, ...]
    base_dn: str
    bind_dn: str
    bind_password: str = field(repr=False)
    ca_file: str
    crl_file: str = ""
    user_base: str = ""
    group_base: str = ""
    min_uid: int = 1000
    timeout: float = 5.0

    def __post_init__(self) -> None:
        if not self.uris:
            raise ValueError("LdapSettings.uris is empty: list at least one ldaps:// URI")
        for uri in self.uris:
            if not uri.startswith(("ldaps://", "ldap://")):
                raise ValueError(f"LdapSettings.uris: {uri!r} is not an ldaps:// or ldap:// URI")
        if self.min_uid < 1:
            raise ValueError(
                f"LdapSettings.min_uid is {self.min_uid}: it must be at least 1 (uid 0 is root)"
            )

    @property
    def users_dn(self) -> str:
        return self.user_base or f"ou=people,{self.base_dn}"

    @property
    def groups_dn(self) -> str:
        return self.group_base or f"ou=groups,{self.base_dn}"

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any]) -> LdapSettings:
        """Build from the plain settings the role renders (``uris`` may be a list)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"LDAP settings: unknown keys {unknown}; known: {sorted(known)}")
        values = dict(settings)
        values["uris"] = tuple(values.get("uris", ()))
        return cls(**values)


def user_filter(name: str) -> str:
    """Search filter for one posixAccount by login name (the name is escaped)."""
    return f"(&(objectClass=posixAccount)(uid={escape_filter_chars(name)}))"


def groups_filter(name: str, gid: int) -> str:
    """Search filter for the user's groups: the primary one (by gidNumber) and every
    posixGroup listing the user as memberUid."""
    return f"(&(objectClass=posixGroup)(|(memberUid={escape_filter_chars(name)})(gidNumber={gid})))"


def _single(entry: Mapping[str, Any], attribute: str, name: str) -> Any:
    values = entry.get(attribute)
    if isinstance(values, str | int):
        values = [values]
    if not values:
        raise InvalidEntry(
            f"LDAP entry of user {name!r} has no {attribute}: add a posixAccount {attribute} "
            "to it (ldap_users in the inventory)"
        )
    if len(values) != 1:
        raise InvalidEntry(
            f"LDAP entry of user {name!r} has {len(values)} values of {attribute} "
            f"({list(values)}): it must have exactly one"
        )
    return values[0]


def _number(entry: Mapping[str, Any], attribute: str, name: str) -> int:
    value = _single(entry, attribute, name)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidEntry(
            f"LDAP entry of user {name!r}: {attribute} is {value!r}, not an integer"
        ) from None


def identity_from_entries(
    name: str,
    user_entries: Sequence[Mapping[str, Any]],
    group_entries: Iterable[Mapping[str, Any]],
    min_uid: int = 1000,
) -> Identity:
    """Turn the result of the user search and the groups search into an :class:`Identity`.

    Raises :class:`UserNotFound` when ``user_entries`` is empty, :class:`InvalidEntry` when
    the user matches several entries or lacks uidNumber/gidNumber/homeDirectory, and
    :class:`UidNotAllowed` when uid or gid is 0 or below ``min_uid``. Group entries without a
    usable gidNumber are ignored (a broken group must not block every member's login).
    """
    if not user_entries:
        raise UserNotFound(
            f"user {name!r} not found in LDAP (no posixAccount with uid={name}): "
            "add them to ldap_users or check the user search base"
        )
    if len(user_entries) > 1:
        raise InvalidEntry(
            f"user {name!r} matches {len(user_entries)} LDAP entries: uid must be unique"
        )
    entry = user_entries[0]
    uid = _number(entry, "uidNumber", name)
    gid = _number(entry, "gidNumber", name)
    home = str(_single(entry, "homeDirectory", name))
    if uid == 0 or gid == 0:
        raise UidNotAllowed(
            f"user {name!r} has uidNumber {uid} / gidNumber {gid}: servers never run as root"
        )
    if uid < min_uid:
        raise UidNotAllowed(
            f"user {name!r} has uidNumber {uid}, below the minimum {min_uid} allowed for "
            "notebook servers (system accounts are refused): give them a uid in jovial_uid_range"
        )
    if gid < min_uid:
        raise UidNotAllowed(
            f"user {name!r} has gidNumber {gid}, below the minimum {min_uid}: "
            "give their primary group a gid in jovial_gid_range"
        )
    if not home.startswith("/") or "/../" in f"{home}/":
        raise InvalidEntry(f"user {name!r} has homeDirectory {home!r}: it must be absolute")

    names: dict[int, str] = {}
    for group in group_entries:
        try:
            group_gid = int(_single(group, "gidNumber", name))
        except (InvalidEntry, TypeError, ValueError):
            continue
        if group_gid == 0 or group_gid < min_uid:
            # Never hand a system group (e.g. gid 0, disk, docker) to a notebook.
            continue
        cn = group.get("cn") or [str(group_gid)]
        names.setdefault(group_gid, str(cn[0] if isinstance(cn, list | tuple) else cn))
    supplementary = tuple(sorted(g for g in names if g != gid))
    ordered = [g for g in (gid, *supplementary) if g in names]
    return Identity(
        name=name,
        uid=uid,
        gid=gid,
        groups=supplementary,
        home=home,
        group_names=tuple(names[g] for g in ordered),
    )


# A connection factory: (uri, settings) -> an ldap3.Connection that is bound. Injected in
# tests (ldap3's MOCK_SYNC strategy); the default opens a real TLS connection.
Connect = Callable[[str, LdapSettings], Any]


def _tls_connect(uri: str, settings: LdapSettings) -> Any:
    from ldap3 import SAFE_SYNC, Connection, Server

    from .ldaptls import CrlTls

    tls = CrlTls(
        ca_certs_file=settings.ca_file, validate=ssl.CERT_REQUIRED, crl_file=settings.crl_file
    )
    server = Server(
        uri, use_ssl=uri.startswith("ldaps://"), tls=tls, connect_timeout=settings.timeout
    )
    conn = Connection(
        server,
        user=settings.bind_dn,
        password=settings.bind_password,
        client_strategy=SAFE_SYNC,
        # ldap3 packs it into SO_RCVTIMEO as a C integer: a float raises struct.error.
        receive_timeout=math.ceil(settings.timeout),
        raise_exceptions=True,
    )
    conn.open()
    if uri.startswith("ldap://"):
        conn.start_tls()
    conn.bind()
    return conn


def _search(conn: Any, base: str, search_filter: str, attributes: Sequence[str]) -> list[dict]:
    """Run one search and return the entries' attributes as plain dicts (both for the SAFE_SYNC
    strategy, which returns the response, and for strategies that fill ``conn.response``)."""
    result = conn.search(base, search_filter, attributes=list(attributes))
    response = result[2] if isinstance(result, tuple) else conn.response
    return [
        {k: (v if isinstance(v, list) else [v]) for k, v in dict(item["attributes"]).items()}
        for item in response or []
        if item.get("type") == "searchResEntry"
    ]


def lookup_identity(settings: LdapSettings, name: str, connect: Connect = _tls_connect) -> Identity:
    """Look ``name`` up in the directory and return their :class:`Identity`.

    Each URI is tried in order until one binds; an answer from a server (even "no such
    user") is final. :class:`DirectoryUnavailable` lists every URI's error when none answers.
    """
    from ldap3.core.exceptions import LDAPException

    errors: list[str] = []
    for uri in settings.uris:
        try:
            conn = connect(uri, settings)
        except (LDAPException, OSError, ssl.SSLError) as exc:
            errors.append(f"{uri}: {type(exc).__name__}: {exc}")
            continue
        try:
            users = _search(conn, settings.users_dn, user_filter(name), USER_ATTRIBUTES)
            gid = None
            if len(users) == 1:
                try:
                    gid = int(_single(users[0], "gidNumber", name))
                except (InvalidEntry, TypeError, ValueError):
                    gid = None
            groups = (
                _search(conn, settings.groups_dn, groups_filter(name, gid), GROUP_ATTRIBUTES)
                if gid is not None
                else []
            )
        except LDAPException as exc:
            errors.append(f"{uri}: {type(exc).__name__}: {exc}")
            continue
        finally:
            # Closing a broken connection must not hide the real result.
            with contextlib.suppress(Exception):
                conn.unbind()
        return identity_from_entries(name, users, groups, min_uid=settings.min_uid)
    raise DirectoryUnavailable(
        f"cannot look up user {name!r}: no LDAP server answered ({'; '.join(errors)}); "
        "check the URIs, the CA and CRL files and the service account"
    )
