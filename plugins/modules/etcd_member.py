#!/usr/bin/python
"""Ansible module etcd_member: add (as learner), remove and promote etcd members."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: etcd_member
short_description: Add, remove or promote one etcd cluster member
description:
  - Reads C(etcdctl -w json member list) first and changes the membership only when it differs
    from the requested state, with C(member add), C(member remove) or C(member promote).
  - A member is found by its name, or by its peer URLs when it was added but never started
    (such a member has no name yet).
  - Run it on a healthy member (delegate_to); it talks to that member's client endpoints.
  - Every run returns the member list it read (I(members)). To only read the members, use
    C(etcd_status), which changes nothing.
version_added: "0.1.0"
author: Jovial maintainers (!UNKNOWN)
options:
  name:
    description: Member name (Jovial uses the inventory hostname).
    type: str
  peer_urls:
    description: The member's peer URLs; required for state=present.
    type: list
    elements: str
    default: []
  state:
    description:
      - C(present) adds the member if missing (as a learner when I(learner=true)).
      - C(absent) removes it if present.
      - C(promoted) promotes it from learner to voting member (no change when it already
        votes; fails when it is missing or etcd says the learner is not caught up yet, so
        retry with until).
    type: str
    choices: [present, absent, promoted]
    default: present
  learner:
    description: Add as a non-voting learner (promote it with state=promoted once caught up).
    type: bool
    default: true
  endpoints:
    description: Client URLs of healthy members to send the requests to.
    type: list
    elements: str
    required: true
  cacert:
    description: CA certificate of the cluster.
    type: path
    required: true
  cert:
    description: Client certificate.
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
attributes:
  check_mode:
    support: full
    description: Reports what would change; runs only C(member list).
  diff_mode:
    support: full
    description: Before/after member lists, one line per member.
"""

EXAMPLES = r"""
- name: Recover | Remove the stale member
  etcd_member:
    name: core2
    state: absent
    endpoints: [https://10.77.0.11:2379]
    cacert: /etc/etcd/pki/ca.crt
    cert: /etc/etcd/pki/etcd-member.crt
    key: /etc/etcd/pki/etcd-member.key
  delegate_to: core1

- name: Recover | Add it back as a learner
  etcd_member:
    name: core2
    peer_urls: [https://10.77.0.12:2380]
    learner: true
    endpoints: [https://10.77.0.11:2379]
    cacert: /etc/etcd/pki/ca.crt
    cert: /etc/etcd/pki/etcd-member.crt
    key: /etc/etcd/pki/etcd-member.key
  delegate_to: core1
"""

RETURN = r"""
member:
  description: The member after the change (null when absent).
  type: dict
  returned: always
members:
  description: Every member after the change (id, name, peer_urls, client_urls, is_learner).
  type: list
  elements: dict
  returned: always
cmd:
  description: The etcdctl command that changed the membership (or would, in check mode).
  type: list
  elements: str
  returned: changed
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.etcd import (
        EtcdParseError,
        find_member,
        member_summary,
        parse_member_add,
        parse_member_list,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.etcd import (
        EtcdParseError,
        find_member,
        member_summary,
        parse_member_add,
        parse_member_list,
    )


def plan(
    members: list[dict[str, Any]], name: str, peer_urls: list[str], state: str, learner: bool
) -> tuple[list[str] | None, dict[str, Any] | None]:
    """(etcdctl arguments that reach the state or None, the member as found). Pure."""
    current = find_member(members, name, peer_urls)
    if state == "absent":
        return (["member", "remove", current["id"]] if current else None), current
    if state == "promoted":
        if current is None or not current["is_learner"]:
            return None, current
        return ["member", "promote", current["id"]], current
    if current is not None:
        return None, current
    args = ["member", "add", name, "--peer-urls=" + ",".join(peer_urls)]
    if learner:
        args.append("--learner")
    return args, None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str"},
            "peer_urls": {"type": "list", "elements": "str", "default": []},
            "state": {
                "type": "str",
                "default": "present",
                "choices": ["present", "absent", "promoted"],
            },
            "learner": {"type": "bool", "default": True},
            "endpoints": {"type": "list", "elements": "str", "required": True},
            "cacert": {"type": "path", "required": True},
            "cert": {"type": "path", "required": True},
            "key": {"type": "path", "required": True, "no_log": False},
            "etcdctl": {"type": "path", "default": "etcdctl"},
        },
        required_if=[
            ("state", "present", ("name", "peer_urls")),
            ("state", "absent", ("name",)),
            ("state", "promoted", ("name",)),
        ],
        supports_check_mode=True,
    )
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C", "ETCDCTL_API": "3"}
    p = module.params
    argv = [
        p["etcdctl"],
        "--endpoints=" + ",".join(p["endpoints"]),
        "--cacert=" + p["cacert"],
        "--cert=" + p["cert"],
        "--key=" + p["key"],
        "-w",
        "json",
    ]
    name, peer_urls, state = p["name"] or "", p["peer_urls"], p["state"]
    if state == "present" and not peer_urls:
        module.fail_json(msg=f"etcd_member: state=present for {name} needs peer_urls")

    def members_now() -> list[dict[str, Any]]:
        cmd = [*argv, "member", "list"]
        rc, out, err = module.run_command(cmd)
        if rc != 0:
            module.fail_json(
                msg="etcdctl member list failed", rc=rc, stdout=out, stderr=err, cmd=cmd
            )
        return parse_member_list(out)["members"]

    try:
        before = members_now()
        args, current = plan(before, name, peer_urls, state, p["learner"])
        if state == "promoted" and current is None:
            module.fail_json(
                msg=f"etcd_member: {name} is not a member, so it cannot be promoted; add it "
                "first (state=present, learner=true)",
                members=before,
            )
        result: dict[str, Any] = {"changed": args is not None, "members": before}
        result["member"] = current
        if args is None:
            module.exit_json(**result)
        result["cmd"] = argv + args
        after = before
        if not module.check_mode:
            rc, out, err = module.run_command(argv + args)
            if rc != 0:
                module.fail_json(
                    msg=f"etcdctl {' '.join(args[:2])} {name} failed",
                    rc=rc,
                    stdout=out,
                    stderr=err,
                    cmd=argv + args,
                )
            if state == "present":
                added = parse_member_add(out)
                result["member"] = added["member"] | {"name": name}
            after = members_now()
            result["members"] = after
            if state != "present":
                result["member"] = find_member(after, name, peer_urls)
        else:
            after = _predict(before, args, name, peer_urls, current)
        if module._diff:
            result["diff"] = {
                "before": "\n".join(member_summary(before)) + "\n",
                "after": "\n".join(member_summary(after)) + "\n",
            }
    except EtcdParseError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


def _predict(
    members: list[dict[str, Any]],
    args: list[str],
    name: str,
    peer_urls: list[str],
    current: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """The member list check mode expects after args (for the diff). Pure."""
    if args[1] == "remove":
        return [m for m in members if m is not current]
    if args[1] == "promote":
        return [m | {"is_learner": False} if m is current else m for m in members]
    new = {
        "id": "",
        "name": name,
        "peer_urls": peer_urls,
        "client_urls": [],
        "is_learner": "--learner" in args,
        "started": False,
    }
    return [*members, new]


if __name__ == "__main__":
    main()
