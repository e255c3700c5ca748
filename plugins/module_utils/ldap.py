"""Pure parsers of OpenLDAP tool output (ldapsearch LDIF) and syncrepl state (contextCSN).

Nothing here talks to a server: modules run ``ldapsearch`` and hand its stdout to these
functions, so they are unit-tested on output captured from the real tools
(tests/unit/fixtures/ldap/).

A CSN (change sequence number) looks like ``20261122024512.345678Z#000000#001#000000``:
a UTC timestamp with microseconds, a count of changes within that microsecond, the server id
(sid, hex) of the provider that made the change, and a modifier count. A provider's
``contextCSN`` on the suffix entry holds one CSN per server id: the newest change from that
server it has seen. Two providers are in sync when their contextCSN sets are equal; otherwise
the one behind lags by the time between its CSN and the newest one for that server id.
"""

from __future__ import annotations

import base64
import datetime
import re
from typing import Any

_CSN = re.compile(
    r"^(?P<ts>\d{14})(?:\.(?P<us>\d{1,6}))?Z#(?P<count>[0-9a-fA-F]+)#(?P<sid>[0-9a-fA-F]+)"
    r"#(?P<mod>[0-9a-fA-F]+)$"
)


class LdifError(ValueError):
    """The text is not LDIF as ldapsearch prints it."""


def parse_ldif(text: str) -> list[dict[str, Any]]:
    """Entries of an LDIF document: [{'dn': str, 'attrs': {name: [values]}}].

    Handles comments, ``version:`` lines, folded lines (continuations start with one space),
    base64 values (``attr:: ...``) and search references/results lines ldapsearch adds
    without -LLL (``# search result``, ``search: 2``, ``result: 0 Success``). Attribute names
    keep the case the server used; values are text (base64 values decoded as UTF-8 when they
    are, else kept as the base64 text prefixed with ``base64:``).
    """
    lines: list[str] = []
    for raw in text.splitlines():
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)

    entries: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in lines:
        if not line.strip():
            current = None
            continue
        if line.startswith("#"):
            continue
        name, sep, rest = line.partition(":")
        if not sep:
            raise LdifError(f"line without ':' in LDIF: {line[:80]!r}")
        if rest.startswith(":"):
            value = _decode_b64(rest[1:].strip())
        elif rest.startswith("<"):
            value = rest[1:].strip()
        else:
            value = rest[1:] if rest.startswith(" ") else rest
        lname = name.lower()
        if current is None:
            if lname in ("version", "search", "result", "text", "ref", "matcheddn"):
                continue
            if lname != "dn":
                raise LdifError(f"entry does not start with dn: {line[:80]!r}")
            current = {"dn": value, "attrs": {}}
            entries.append(current)
            continue
        current["attrs"].setdefault(name, []).append(value)
    return entries


def _decode_b64(data: str) -> str:
    raw = base64.b64decode(data)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + data


def attribute(entry: dict[str, Any], name: str) -> list[str]:
    """The values of an attribute of a parsed entry, whatever case the server used."""
    for key, values in entry["attrs"].items():
        if key.lower() == name.lower():
            return list(values)
    return []


def parse_csn(csn: str) -> dict[str, Any]:
    """{'time': aware datetime (UTC), 'count': int, 'sid': int, 'mod': int} of a CSN."""
    match = _CSN.match(csn.strip())
    if not match:
        raise ValueError(
            f"not a CSN: {csn!r} (expected e.g. 20261122024512.345678Z#000000#001#000000)"
        )
    stamp = datetime.datetime.strptime(match["ts"], "%Y%m%d%H%M%S").replace(tzinfo=datetime.UTC)
    micro = int((match["us"] or "0").ljust(6, "0"))
    return {
        "time": stamp.replace(microsecond=micro),
        "count": int(match["count"], 16),
        "sid": int(match["sid"], 16),
        "mod": int(match["mod"], 16),
    }


def context_csns(ldif: str) -> dict[int, str]:
    """{server id: CSN} from ldapsearch output of the suffix entry's contextCSN."""
    entries = parse_ldif(ldif)
    if not entries:
        return {}
    found: dict[int, str] = {}
    for entry in entries:
        for value in attribute(entry, "contextCSN"):
            found[parse_csn(value)["sid"]] = value.strip()
    return found


def compare_context_csns(by_provider: dict[str, dict[int, str]]) -> dict[str, Any]:
    """Replication state of providers from their contextCSN ({provider: {sid: csn}}).

    Returns {'in_sync': bool, 'newest': {sid: csn}, 'lag_seconds': {provider: float | None},
    'behind': {provider: [server ids where it is behind or has no CSN]}}. A provider's lag is
    the largest time difference, over server ids, between its CSN and the newest one seen on
    any provider; it is None (unknown) when the provider has no CSN at all for a server id
    another provider has. Providers with no contextCSN at all are never in sync.
    """
    newest: dict[int, str] = {}
    for csns in by_provider.values():
        for sid, csn in csns.items():
            if sid not in newest or _key(csn) > _key(newest[sid]):
                newest[sid] = csn
    lag: dict[str, float | None] = {}
    behind: dict[str, list[int]] = {}
    for provider, csns in by_provider.items():
        worst: float | None = 0.0
        late: list[int] = []
        for sid, top in sorted(newest.items()):
            mine = csns.get(sid)
            if mine == top:
                continue
            late.append(sid)
            if mine is None:
                worst = None
            elif worst is not None:
                worst = max(worst, _gap(mine, top))
        lag[provider] = worst
        behind[provider] = late
    in_sync = (
        bool(by_provider)
        and all(csns for csns in by_provider.values())
        and not any(behind.values())
    )
    return {
        "in_sync": in_sync,
        "newest": {str(sid): csn for sid, csn in sorted(newest.items())},
        "lag_seconds": lag,
        "behind": behind,
    }


def _key(csn: str) -> tuple[datetime.datetime, int, int]:
    parsed = parse_csn(csn)
    return parsed["time"], parsed["count"], parsed["mod"]


def _gap(older: str, newer: str) -> float:
    delta = parse_csn(newer)["time"] - parse_csn(older)["time"]
    return max(delta.total_seconds(), 0.0)


# --- Desired directory content (ldap_directory) ------------------------------------------
#
# The module reads every entry it manages, hands what it read to these functions, and applies
# the changes they return: one connection and one module run for the whole directory content
# instead of one module run per entry and attribute.


def ldap_values(value: Any) -> list[bytes]:
    """An inventory value as LDAP values: None and [] are no value, a scalar is one value,
    a list is its items (duplicates dropped, order kept). Everything is sent as UTF-8 text."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    out: list[bytes] = []
    for item in items:
        if isinstance(item, bool):
            raise ValueError(f"boolean {item!r}: write LDAP booleans as the text TRUE or FALSE")
        encoded = item if isinstance(item, bytes) else str(item).encode("utf-8")
        if encoded not in out:
            out.append(encoded)
    return out


def entry_changes(
    object_class: list[str],
    attributes: dict[str, Any],
    current: dict[str, list[bytes]] | None,
) -> dict[str, Any]:
    """What makes one entry match the inventory.

    ``current`` is the entry as read (attribute name -> values, names in the server's case) or
    None when it does not exist. Every attribute named in ``attributes`` is kept exactly equal
    to its wanted values (an empty value removes it); attributes not named are left alone, and
    so are the object classes of an existing entry (set only when the entry is created).

    Returns ``{"action": "add", "attrs": [(name, values)]}`` for a missing entry,
    ``{"action": "modify", "mods": [("replace" | "delete", name, values)]}`` for an entry
    that differs, or ``{"action": "none"}``.
    """
    wanted = {name: ldap_values(value) for name, value in attributes.items()}
    if current is None:
        attrs = [("objectClass", ldap_values(object_class))]
        attrs += [(name, values) for name, values in wanted.items() if values]
        return {"action": "add", "attrs": attrs}
    have = {name.lower(): values for name, values in current.items()}
    mods: list[tuple[str, str, list[bytes]]] = []
    for name, values in wanted.items():
        existing = have.get(name.lower(), [])
        if set(existing) == set(values):
            continue
        mods.append(("replace", name, values) if values else ("delete", name, []))
    return {"action": "modify", "mods": mods} if mods else {"action": "none"}


def changes_diff(dn: str, change: dict[str, Any], current: dict[str, list[bytes]] | None) -> dict:
    """A before/after text of one entry's change, for Ansible's --diff (LDIF-like lines;
    userPassword values are never shown)."""

    def lines(pairs: list[tuple[str, list[bytes]]]) -> str:
        out = [f"dn: {dn}"]
        for name, values in pairs:
            for value in values:
                shown = "(hidden)" if name.lower() == "userpassword" else value.decode("utf-8")
                out.append(f"{name}: {shown}")
        return "\n".join(out) + "\n"

    if change["action"] == "add":
        return {"before": "", "after": lines(change["attrs"]), "before_header": dn}
    if change["action"] == "delete":
        return {"before": f"dn: {dn}\n", "after": "", "before_header": dn}
    have = {name.lower(): values for name, values in (current or {}).items()}
    before = [(name, have.get(name.lower(), [])) for _op, name, _v in change.get("mods", [])]
    after = [(name, values) for _op, name, values in change.get("mods", [])]
    return {"before": lines(before), "after": lines(after), "before_header": dn}
