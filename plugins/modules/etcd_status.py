#!/usr/bin/python
"""Ansible module etcd_status: read-only health of an etcd cluster through etcdctl."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: etcd_status
short_description: Health, leader, revision and hashkv of every etcd endpoint
description:
  - Runs C(etcdctl -w json) C(endpoint health), C(endpoint status), C(member list) and
    (optionally) C(endpoint hashkv) against the given endpoints, over TLS with a client
    certificate, and reports per endpoint and for the cluster.
  - Never changes anything. An unreachable or unhealthy endpoint is reported, not a failure;
    the module fails only when etcdctl cannot be run or prints something that is not JSON.
version_added: "0.1.0"
author: Jovial maintainers (!UNKNOWN)
options:
  endpoints:
    description: Client URLs to check (usually every member's).
    type: list
    elements: str
    required: true
  cacert:
    description: CA certificate that signed the members' certificates.
    type: path
    required: true
  cert:
    description: Client certificate signed by that CA.
    type: path
    required: true
  key:
    description: Key of the client certificate.
    type: path
    required: true
  etcdctl:
    description: Path of etcdctl.
    type: path
    default: etcdctl
  hashkv:
    description: Also compare C(endpoint hashkv) across the endpoints.
    type: bool
    default: true
  command_timeout:
    description: etcdctl C(--command-timeout) per request.
    type: str
    default: 5s
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Returns no diff; the module only reads.
"""

EXAMPLES = r"""
- name: Verify | etcd health
  etcd_status:
    endpoints: [https://10.77.0.11:2379, https://10.77.0.12:2379, https://10.77.0.13:2379]
    cacert: /etc/etcd/pki/ca.crt
    cert: /etc/etcd/pki/etcd-member.crt
    key: /etc/etcd/pki/etcd-member.key
  register: etcd
  failed_when: not etcd.healthy or not etcd.hashkv_consistent
"""

RETURN = r"""
healthy:
  description: Every endpoint answered a health check.
  type: bool
  returned: always
leader:
  description: Name of the leader member (empty when no endpoint knows one).
  type: str
  returned: always
revision:
  description: Highest revision reported by any endpoint.
  type: int
  returned: always
hashkv_consistent:
  description: >-
    Every endpoint reported the same hash at the same revision (null when hashkv=false or when
    not every endpoint answered).
  type: bool
  returned: always
endpoints:
  description: Per endpoint; keys endpoint, name, healthy, error, member_id, is_leader,
    is_learner, revision, raft_term, raft_index, db_size, version, hash.
  type: list
  elements: dict
  returned: always
members:
  description: Members from C(member list) (id, name, peer_urls, client_urls, is_learner).
  type: list
  elements: dict
  returned: always
quorum:
  description: voting (members that vote), needed (quorum size), healthy_voting, has_quorum.
  type: dict
  returned: always
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.etcd import (
        EtcdParseError,
        hashes_agree,
        parse_endpoint_hashkv,
        parse_endpoint_health,
        parse_endpoint_status,
        parse_member_list,
        quorum,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.etcd import (
        EtcdParseError,
        hashes_agree,
        parse_endpoint_hashkv,
        parse_endpoint_health,
        parse_endpoint_status,
        parse_member_list,
        quorum,
    )


def base_argv(params: dict[str, Any], endpoints: list[str]) -> list[str]:
    """etcdctl with endpoints, TLS and JSON output."""
    return [
        params["etcdctl"],
        "--endpoints=" + ",".join(endpoints),
        "--cacert=" + params["cacert"],
        "--cert=" + params["cert"],
        "--key=" + params["key"],
        "--command-timeout=" + params["command_timeout"],
        "-w",
        "json",
    ]


def combine(
    endpoints: list[str],
    health: list[dict[str, Any]],
    status: list[dict[str, Any]],
    members: list[dict[str, Any]],
    hashkv: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """The module's result from the parsed outputs (pure)."""
    by_health = {h["endpoint"]: h for h in health}
    by_status = {s["endpoint"]: s for s in status}
    by_hash = {h["endpoint"]: h for h in hashkv or []}
    names = {m["id"]: m["name"] for m in members}
    rows = []
    for endpoint in endpoints:
        h = by_health.get(endpoint, {})
        s = by_status.get(endpoint, {})
        rows.append(
            {
                "endpoint": endpoint,
                "name": names.get(s.get("member_id", ""), ""),
                "healthy": bool(h.get("healthy", False)),
                "error": h.get("error") or (None if h else "no answer"),
                "member_id": s.get("member_id"),
                "is_leader": bool(s.get("is_leader", False)),
                "is_learner": bool(s.get("is_learner", False)),
                "revision": s.get("revision"),
                "raft_term": s.get("raft_term"),
                "raft_index": s.get("raft_index"),
                "db_size": s.get("db_size"),
                "version": s.get("version"),
                "hash": by_hash.get(endpoint, {}).get("hash"),
            }
        )
    leaders = {s["leader_id"] for s in status if s.get("leader_id") not in (None, "0")}
    leader = next((names.get(i, "") for i in sorted(leaders)), "")
    voting = [m for m in members if not m["is_learner"]]
    voting_names = {m["name"] for m in voting}
    healthy_voting = sum(1 for r in rows if r["healthy"] and r["name"] in voting_names)
    consistent = None
    if hashkv is not None and len(by_hash) == len(endpoints):
        consistent = hashes_agree(list(by_hash.values()))
    return {
        "healthy": bool(rows) and all(r["healthy"] for r in rows),
        "leader": leader,
        "revision": max((s["revision"] for s in status), default=0),
        "hashkv_consistent": consistent,
        "endpoints": rows,
        "members": members,
        "quorum": {
            "voting": len(voting),
            "needed": quorum(len(voting)) if voting else 0,
            "healthy_voting": healthy_voting,
            "has_quorum": bool(voting) and healthy_voting >= quorum(len(voting)),
        },
    }


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "endpoints": {"type": "list", "elements": "str", "required": True},
            "cacert": {"type": "path", "required": True},
            "cert": {"type": "path", "required": True},
            "key": {"type": "path", "required": True, "no_log": False},
            "etcdctl": {"type": "path", "default": "etcdctl"},
            "hashkv": {"type": "bool", "default": True},
            "command_timeout": {"type": "str", "default": "5s"},
        },
        supports_check_mode=True,
    )
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C", "ETCDCTL_API": "3"}
    endpoints = module.params["endpoints"]
    argv = base_argv(module.params, endpoints)

    def run(args: list[str], tolerate_failure: bool) -> str:
        cmd = argv + args
        rc, out, err = module.run_command(cmd)
        if rc != 0 and not (tolerate_failure and out.strip()):
            if not tolerate_failure:
                module.fail_json(
                    msg=f"etcdctl {' '.join(args)} failed", rc=rc, stdout=out, stderr=err, cmd=cmd
                )
            return ""
        return out

    try:
        # Unhealthy endpoints make etcdctl exit non-zero but still print JSON for every one.
        health = parse_endpoint_health(run(["endpoint", "health"], tolerate_failure=True))
        status = parse_endpoint_status(run(["endpoint", "status"], tolerate_failure=True))
        members: list[dict[str, Any]] = []
        rc, out, _err = module.run_command([*argv, "member", "list"])
        if rc == 0:
            members = parse_member_list(out)["members"]
        hashkv = None
        if module.params["hashkv"]:
            hashkv = parse_endpoint_hashkv(run(["endpoint", "hashkv"], tolerate_failure=True))
    except EtcdParseError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **combine(endpoints, health, status, members, hashkv))


if __name__ == "__main__":
    main()
