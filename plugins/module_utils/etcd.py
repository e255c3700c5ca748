"""Pure parsers of `etcdctl -w json` output and quorum arithmetic (no Ansible, no I/O).

Used by plugins/modules/etcd_status.py and plugins/modules/etcd_member.py; unit-tested on
output captured from the real etcdctl (tests/unit/fixtures/etcd/). etcdctl prints member IDs
as unsigned 64-bit JSON numbers; etcdctl's own commands (member remove/promote) and its text
output use them in hex, so every parser returns both.
"""

from __future__ import annotations

import json
from typing import Any


class EtcdParseError(ValueError):
    """etcdctl output that is not the JSON we expect (the message quotes it)."""


def _load(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        shown = (text or "").strip()[:200]
        raise EtcdParseError(f"{what}: etcdctl output is not JSON ({exc}): {shown!r}") from exc


def _load_records(text: str, what: str) -> list[Any]:
    """A JSON array; or, when etcdctl printed one JSON value per line, those values."""
    stripped = (text or "").strip()
    if not stripped:
        return []
    try:
        data = json.loads(stripped)
    except ValueError:
        data = [_load(line, what) for line in stripped.splitlines() if line.strip()]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise EtcdParseError(f"{what}: expected a JSON list, got {type(data).__name__}")
    return data


def member_id_hex(value: Any) -> str:
    """etcdctl's hex form of a member ID (as `member list` prints it in table mode)."""
    if isinstance(value, str):
        return value.lower()
    if not isinstance(value, int) or isinstance(value, bool):
        raise EtcdParseError(f"member ID {value!r} is not an integer")
    return format(value, "x")


def _member(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": member_id_hex(raw.get("ID", 0)),
        "name": raw.get("name", ""),
        "peer_urls": list(raw.get("peerURLs") or []),
        "client_urls": list(raw.get("clientURLs") or []),
        "is_learner": bool(raw.get("isLearner", False)),
        # A member added but never started has no name and no client URLs yet.
        "started": bool(raw.get("name")),
    }


def parse_member_list(text: str) -> dict[str, Any]:
    """`etcdctl -w json member list` -> {'cluster_id', 'members': [...]}, sorted by name."""
    data = _load(text, "member list")
    if not isinstance(data, dict) or "members" not in data:
        raise EtcdParseError("member list: no 'members' in etcdctl output")
    members = [_member(m) for m in data.get("members") or []]
    members.sort(key=lambda m: (m["name"], m["id"]))
    header = data.get("header") or {}
    return {"cluster_id": member_id_hex(header.get("cluster_id", 0)), "members": members}


def parse_member_add(text: str) -> dict[str, Any]:
    """`etcdctl -w json member add ...` -> the new member and the members after the add."""
    data = _load(text, "member add")
    if not isinstance(data, dict) or "member" not in data:
        raise EtcdParseError("member add: no 'member' in etcdctl output")
    members = [_member(m) for m in data.get("members") or []]
    return {"member": _member(data["member"]), "members": members}


def parse_endpoint_health(text: str) -> list[dict[str, Any]]:
    """`etcdctl -w json endpoint health` -> [{'endpoint', 'healthy', 'took', 'error'}]."""
    results = []
    for raw in _load_records(text, "endpoint health"):
        if not isinstance(raw, dict):
            raise EtcdParseError(f"endpoint health: unexpected entry {raw!r}")
        results.append(
            {
                "endpoint": raw.get("endpoint", ""),
                "healthy": bool(raw.get("health", False)),
                "took": raw.get("took", ""),
                "error": raw.get("error") or None,
            }
        )
    return sorted(results, key=lambda r: r["endpoint"])


def parse_endpoint_status(text: str) -> list[dict[str, Any]]:
    """`etcdctl -w json endpoint status` -> one dict per endpoint that answered."""
    results = []
    for raw in _load_records(text, "endpoint status"):
        if not isinstance(raw, dict) or "Status" not in raw:
            raise EtcdParseError(f"endpoint status: unexpected entry {raw!r}")
        status = raw["Status"] or {}
        header = status.get("header") or {}
        member = member_id_hex(header.get("member_id", 0))
        leader = member_id_hex(status.get("leader", 0))
        results.append(
            {
                "endpoint": raw.get("Endpoint", ""),
                "member_id": member,
                "leader_id": leader,
                "is_leader": member == leader,
                "is_learner": bool(status.get("isLearner", False)),
                "version": status.get("version", ""),
                "revision": int(header.get("revision", 0)),
                "raft_term": int(status.get("raftTerm", header.get("raft_term", 0))),
                "raft_index": int(status.get("raftIndex", 0)),
                "raft_applied_index": int(status.get("raftAppliedIndex", 0)),
                "db_size": int(status.get("dbSize", 0)),
                "db_size_in_use": int(status.get("dbSizeInUse", 0)),
                "errors": list(status.get("errors") or []),
            }
        )
    return sorted(results, key=lambda r: r["endpoint"])


def parse_endpoint_hashkv(text: str) -> list[dict[str, Any]]:
    """`etcdctl -w json endpoint hashkv` -> [{'endpoint', 'hash', 'revision', ...}]."""
    results = []
    for raw in _load_records(text, "endpoint hashkv"):
        if not isinstance(raw, dict) or "HashKV" not in raw:
            raise EtcdParseError(f"endpoint hashkv: unexpected entry {raw!r}")
        hashkv = raw["HashKV"] or {}
        header = hashkv.get("header") or {}
        results.append(
            {
                "endpoint": raw.get("Endpoint", ""),
                "hash": int(hashkv.get("hash", 0)),
                "compact_revision": int(hashkv.get("compact_revision", 0)),
                "revision": int(header.get("revision", 0)),
                "member_id": member_id_hex(header.get("member_id", 0)),
            }
        )
    return sorted(results, key=lambda r: r["endpoint"])


def hashes_agree(hashkv: list[dict[str, Any]]) -> bool:
    """True when every endpoint reports the same hash at the same revision."""
    return len({(h["hash"], h["revision"]) for h in hashkv}) == 1 if hashkv else False


def quorum(voting_members: int) -> int:
    """Votes a cluster of this many voting members needs to commit anything."""
    return voting_members // 2 + 1


def removal_keeps_quorum(voting_members: int, healthy_others: int) -> bool:
    """Can one (broken) voting member be removed and re-added without losing quorum?

    After the removal the cluster has voting_members - 1 voters, and only the healthy others
    can vote; they must be a quorum of that smaller cluster (and of the current one, for the
    remove itself to commit).
    """
    if voting_members < 2:
        return False
    return healthy_others >= max(quorum(voting_members), quorum(voting_members - 1))


def find_member(
    members: list[dict[str, Any]], name: str, peer_urls: list[str] | None = None
) -> dict[str, Any] | None:
    """The member with this name, or (for an added but never started one) these peer URLs."""
    for member in members:
        if name and member["name"] == name:
            return member
    wanted = set(peer_urls or [])
    if wanted:
        for member in members:
            if wanted & set(member["peer_urls"]):
                return member
    return None


def member_summary(members: list[dict[str, Any]]) -> list[str]:
    """One line per member for diffs: 'core1 https://10.77.0.11:2380 (learner)'."""
    lines = []
    for m in members:
        name = m["name"] or "(not started)"
        role = " (learner)" if m["is_learner"] else ""
        lines.append(f"{name} {','.join(m['peer_urls'])}{role}")
    return sorted(lines)
