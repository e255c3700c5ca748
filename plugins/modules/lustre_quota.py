#!/usr/bin/python
"""Ansible module lustre_quota: a science group's Lustre block and inode limits."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lustre_quota
short_description: Set or report a group's quota on a mounted Lustre filesystem
description:
  - Reads the group's usage and limits with C(lfs quota -q -g <group> <path>) first; with
    I(state=present) runs C(lfs setquota -g <group> -b -B -i -I <path>) only when a limit differs,
    so a second run changes nothing.
  - Every limit is always passed to C(lfs setquota); a limit left out of the task is 0, which
    removes it. Lustre applies group quotas filesystem-wide, so one client is enough (run it with
    C(run_once)).
  - Runs on a Lustre client where I(path) is mounted, as root.
  - With I(backend=moosefs) (the lab's MooseFS stand-in) quotas are per directory, so the
    group's limits sit on its directory C(<path>/groups/<group>), created when missing (owner root,
    the group, mode 2770, so members share it), read with C(mfsgetquota -n) and changed with
    C(mfssetquota)/C(mfsdelquota) only when a limit differs. The client must be one whose
    root is not squashed (the export's C(admin,maproot=0)). Unlike Lustre's, the limit counts
    everything under the directory, whoever owns it, and nothing of the group's elsewhere.
version_added: "0.1.0"
author: Jovial maintainers (!UNKNOWN)
options:
  path:
    description: Mount point of the Lustre filesystem on this client.
    type: path
    required: true
  group:
    description: Group name (resolvable on the client, e.g. through SSSD) or numeric gid.
    type: str
    required: true
  gid:
    description:
      - The group's numeric id. Given, it is used instead of resolving I(group) on this client
        (the quota commands get the number, the MooseFS directory keeps the name), since on a
        new site the storage layer converges before LDAP and SSSD and the name does not
        resolve yet.
    type: int
  block_softlimit:
    description:
      - Soft block limit; kbytes, or a size with a k, M, G, T or P suffix (base 1024). 0 or
        omitted means none.
    type: str
  block_hardlimit:
    description: Hard block limit, same units as I(block_softlimit).
    type: str
  inode_softlimit:
    description: Soft inode (file count) limit, a plain number. 0 or omitted means none.
    type: str
  inode_hardlimit:
    description: Hard inode limit, a plain number.
    type: str
  backend:
    description: C(lustre) (C(lfs), group quotas) or C(moosefs) (directory quotas, see above).
    type: str
    choices: [lustre, moosefs]
    default: lustre
  state:
    description:
      - C(present) sets the limits; C(query) only reports usage and limits (never changes
        anything, the limit options are ignored).
    type: str
    choices: [present, query]
    default: present
attributes:
  check_mode:
    support: full
    description: Reads the quota and reports what would change; runs no C(lfs setquota).
  diff_mode:
    support: full
    description: The group's limits before and after.
"""

EXAMPLES = r"""
- name: quotas | Limits of the science group astro
  lustre_quota:
    path: /lustre/obs
    group: astro
    block_softlimit: 9T
    block_hardlimit: 10T
    inode_hardlimit: 10000000
  run_once: true

- name: Verify | Usage of astro
  lustre_quota:
    path: /lustre/obs
    group: astro
    state: query
  register: astro_quota
"""

RETURN = r"""
directory:
  description: The group's directory that carries the limits (backend moosefs).
  type: str
  returned: with backend moosefs
quota:
  description: Usage and limits after the run (block values in kbytes), as C(lfs quota) reports
    them, with C(block_over)/C(inode_over) when a limit is exceeded and C(inaccurate) when some
    server did not answer.
  type: dict
  returned: always
limits:
  description: The limits asked for, in lfs units (kbytes, inodes).
  type: dict
  returned: when state is present
report:
  description: One line for operators (usage against limits).
  type: str
  returned: always
cmd:
  description: >-
    The lfs setquota argv that ran (or would run in check mode); with backend moosefs, the
    list of mfssetquota/mfsdelquota argvs.
  type: list
  returned: when a limit changed
"""

import grp
import os

from ansible.module_utils.basic import AnsibleModule

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.lustre_quota import (
        LIMIT_KEYS,
        QuotaParseError,
        desired_limits,
        limits_differ,
        mfs_quota_argvs,
        parse_lfs_quota,
        parse_mfsgetquota,
        setquota_argv,
        usage_report,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.lustre_quota import (
        LIMIT_KEYS,
        QuotaParseError,
        desired_limits,
        limits_differ,
        mfs_quota_argvs,
        parse_lfs_quota,
        parse_mfsgetquota,
        setquota_argv,
        usage_report,
    )


def read(module: AnsibleModule, argv: list[str], parse, failure: str) -> dict:
    """Run a quota reader and parse its output; fail naming what went wrong."""
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg=failure, rc=rc, stdout=out, stderr=err, cmd=argv)
    try:
        return parse(out)
    except QuotaParseError as exc:
        module.fail_json(msg=str(exc), cmd=argv)
    raise AssertionError("unreachable")


def apply(module: AnsibleModule, argvs: list[list[str]], reread, limits: dict, what: str) -> dict:
    """Run the commands that set the limits, read the quota again and fail unless it now
    reports them; returns what it reads."""
    for argv in argvs:
        rc, out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(msg=f"{what} failed", rc=rc, stdout=out, stderr=err, cmd=argv)
    quota = reread()
    still = limits_differ(quota, limits)
    if still:
        module.fail_json(
            msg=f"{what} ran but the quota read back still reports "
            + ", ".join(f"{k} {c} (asked {d})" for k, (c, d) in still.items()),
            cmd=argvs,
            quota=quota,
        )
    return quota


def read_quota(module: AnsibleModule, lfs: str, group: str, path: str) -> dict:
    return read(
        module,
        [lfs, "quota", "-q", "-g", group, path],
        parse_lfs_quota,
        f"lfs quota -g {group} {path} failed (is {path} a mounted Lustre filesystem, "
        f"quotas enabled, and group {group} known on this client?)",
    )


def read_mfs_quota(module: AnsibleModule, tool: str, directory: str) -> dict:
    return read(
        module,
        [tool, "-n", directory],
        parse_mfsgetquota,
        f"mfsgetquota {directory} failed (is the MooseFS filesystem mounted here?)",
    )


def group_directory(
    module: AnsibleModule, path: str, group: str, gid: int | None
) -> tuple[str, bool]:
    """<path>/groups/<group>, owned by root and the group, mode 2770; (directory, changed)."""
    try:
        if gid is None:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
    except KeyError:
        module.fail_json(
            msg=f"lustre_quota: group {group} is not known on this client (SSSD?); give its gid"
        )
    directory = os.path.join(path, "groups", group)
    changed = False
    for each in (os.path.join(path, "groups"), directory):
        if not os.path.isdir(each):
            changed = True
            if not module.check_mode:
                os.mkdir(each, 0o755)
    if module.check_mode and changed:
        return directory, changed
    st = os.stat(directory)
    if (st.st_uid, st.st_gid, st.st_mode & 0o7777) != (0, gid, 0o2770):
        changed = True
        if not module.check_mode:
            os.chown(directory, 0, gid)
            os.chmod(directory, 0o2770)
            st = os.stat(directory)
            if (st.st_uid, st.st_gid) != (0, gid):
                module.fail_json(
                    msg=f"lustre_quota: {directory} is owned by {st.st_uid}:{st.st_gid} after "
                    f"chown root:{group}: root is squashed on this client; run it on a host of "
                    "lustre_server_moosefs_root_clients"
                )
    return directory, changed


def moosefs(
    module: AnsibleModule, group: str, gid: int | None, path: str, limits: dict | None
) -> None:
    tools = {
        t: module.get_bin_path(t, required=True)
        for t in ("mfsgetquota", "mfssetquota", "mfsdelquota")
    }
    if limits is None:  # query: read only, never create the directory
        directory, changed = os.path.join(path, "groups", group), False
        if not os.path.isdir(directory):
            module.fail_json(
                msg=f"lustre_quota: {directory} does not exist: group {group}'s quota was never "
                "applied; run playbooks/storage.yml"
            )
    else:
        directory, changed = group_directory(module, path, group, gid)
    if module.check_mode and changed:
        module.exit_json(changed=True, directory=directory, quota={}, report=f"{group}: new")
    current = read_mfs_quota(module, tools["mfsgetquota"], directory)
    result: dict = {"changed": changed, "quota": current, "directory": directory}
    if limits is not None:
        result["limits"] = limits
        argvs = mfs_quota_argvs(tools, directory, current, limits)
        if argvs:
            result.update(changed=True, cmd=argvs)
            if not module.check_mode:
                result["quota"] = apply(
                    module,
                    argvs,
                    lambda: read_mfs_quota(module, tools["mfsgetquota"], directory),
                    limits,
                    f"mfssetquota {directory}",
                )
    module.exit_json(report=usage_report(group, result["quota"]), **result)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "group": {"type": "str", "required": True},
            "gid": {"type": "int"},
            "block_softlimit": {"type": "str"},
            "block_hardlimit": {"type": "str"},
            "inode_softlimit": {"type": "str"},
            "inode_hardlimit": {"type": "str"},
            "backend": {"type": "str", "choices": ["lustre", "moosefs"], "default": "lustre"},
            "state": {"type": "str", "choices": ["present", "query"], "default": "present"},
        },
        supports_check_mode=True,
    )
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C"}
    params = module.params
    group, path = params["group"], params["path"]
    limits = None
    if params["state"] == "present":
        try:
            limits = desired_limits({key: params[key] for key in LIMIT_KEYS})
        except ValueError as exc:
            module.fail_json(msg=f"lustre_quota group {group}: {exc}")
    if params["backend"] == "moosefs":
        moosefs(module, group, params["gid"], path, limits)
    lfs = module.get_bin_path("lfs", required=True)
    # lfs takes the gid where the name does not resolve yet.
    who = group if params["gid"] is None else str(params["gid"])
    current = read_quota(module, lfs, who, path)
    result: dict = {"changed": False, "quota": current}
    if limits is None:
        module.exit_json(report=usage_report(group, current), **result)
    result["limits"] = limits
    changes = limits_differ(current, limits)
    if changes:
        argv = setquota_argv(lfs, who, limits, path)
        result.update(changed=True, cmd=argv)
        if module._diff:
            result["diff"] = {
                "before": {key: current[key] for key in LIMIT_KEYS},
                "after": dict(limits),
                "before_header": f"lfs quota -g {group} {path}",
                "after_header": f"lfs quota -g {group} {path}",
            }
        if not module.check_mode:
            result["quota"] = apply(
                module,
                [argv],
                lambda: read_quota(module, lfs, who, path),
                limits,
                f"lfs setquota -g {group} {path}",
            )
    module.exit_json(report=usage_report(group, result["quota"]), **result)


if __name__ == "__main__":
    main()
