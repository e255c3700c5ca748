#!/usr/bin/python
"""Ansible module lustre_target: format a Lustre target once (never over data), or report it."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lustre_target
short_description: Format a Lustre MGT, MDT or OST once, guarded; or report a target's state
description:
  - Reads the device first (C(blkid -p -o export); with I(backend=lustre) also
    C(tunefs.lustre --dryrun)) and formats it only when it is blank. A device that already holds
    this target is left alone (C(changed=false)); a device that holds another target, any other
    filesystem, a partition table or any other signature is refused with an error naming the
    device, what it holds and how to reformat it deliberately.
  - Reformatting is a separate action, taken only with I(reformat=true) and I(confirm) equal to
    the target's label, and never while the device is mounted here or its multiple-mount
    protection (MMP) block shows a node using it.
  - I(backend=lustre) formats with C(mkfs.lustre) (C(--servicenode) for both servers of the
    pair, which makes mkfs.lustre enable ldiskfs MMP; C(--mgsnode) once per MGS host) and
    reports whether the target runs here from C(lctl dl) and its recovery status from
    C(lctl get_param).
  - I(backend=lab_ext4) is the lab and Molecule stand-in without Lustre kernel modules, an ext4
    filesystem created with MMP (C(mkfs.ext4 -q -O mmp -E mmp_update_interval=5 -L <label>)),
    labelled like the Lustre target; mounted means listed in /proc/self/mounts.
  - Both backends check after formatting (and for an existing target) that MMP is on
    (C(dumpe2fs -h)); a target without MMP is an error, since two servers could mount it.
version_added: "0.1.0"
author: Jovial maintainers (!UNKNOWN)
options:
  device:
    description: The block device (a stable path such as /dev/disk/by-id/dm-uuid-mpath-...).
    type: path
    required: true
  fsname:
    description: Lustre filesystem name (1-8 characters).
    type: str
    required: true
  kind:
    description: Target kind.
    type: str
    choices: [mgt, mdt, ost]
    required: true
  index:
    description: Target index (unique per kind; ignored in the label of the MGT, which is MGS).
    type: int
    default: 0
  mgsnode:
    description:
      - One list per MGS host (primary and failover), each with that host's NIDs. Required to
        format an MDT or OST with I(backend=lustre).
    type: list
    elements: list
    default: []
  servicenode:
    description:
      - NIDs of the servers that may mount the target (primary and failover; several NIDs of one
        server comma-separated). Required (both servers) to format with I(backend=lustre).
    type: list
    elements: str
    default: []
  backfstype:
    description: Backing filesystem of I(backend=lustre).
    type: str
    choices: [ldiskfs]
    default: ldiskfs
  mkfsoptions:
    description: Extra options of the backing mkfs (C(--mkfsoptions=) of mkfs.lustre; appended to
      mkfs.ext4 with I(backend=lab_ext4)).
    type: str
  params:
    description: Permanent parameters (C(--param=key=value)), I(backend=lustre) only.
    type: list
    elements: str
    default: []
  backend:
    description: C(lustre) (production) or C(lab_ext4) (lab, Molecule).
    type: str
    choices: [lustre, lab_ext4]
    default: lustre
  state:
    description:
      - C(formatted) formats a blank device, verifies an existing one, refuses anything else.
      - C(status) only reads (what the device holds, MMP, whether the target runs here).
    type: str
    choices: [formatted, status]
    default: formatted
  reformat:
    description: Destroy the device's contents and format it again (needs I(confirm)).
    type: bool
    default: false
  confirm:
    description: With I(reformat=true), the target's label (e.g. C(jovial-OST0000), C(MGS)).
    type: str
attributes:
  check_mode:
    support: full
    description: Runs only the reads (blkid, tunefs.lustre --dryrun, dumpe2fs -h, lctl).
  diff_mode:
    support: full
    description: What the device holds before and after.
notes:
  - The label of an MGT is C(MGS); of an MDT or OST C(<fsname>-MDT<index, 4 hex digits>) or
    C(<fsname>-OST<index>), as Lustre writes it.
"""

EXAMPLES = r"""
- name: Format | OST 0 (production)
  lustre_target:
    device: /dev/disk/by-id/dm-uuid-mpath-3600a0b80005ad1d700002f3c4fd5e0b1
    fsname: jovial
    kind: ost
    index: 0
    mgsnode: [[10.80.0.41@o2ib0], [10.80.0.42@o2ib0]]
    servicenode: [10.80.0.51@o2ib0, 10.80.0.52@o2ib0]
  run_once: true
  delegate_to: oss1

- name: Format | OST 0 (lab)
  lustre_target:
    device: /dev/jovial/ost0
    fsname: jovial
    kind: ost
    index: 0
    backend: lab_ext4

- name: Reformat | OST 0, deliberately (destroys its data)
  lustre_target:
    device: /dev/jovial/ost0
    fsname: jovial
    kind: ost
    index: 0
    backend: lab_ext4
    reformat: true
    confirm: jovial-OST0000
"""

RETURN = r"""
target:
  description: The requested target's label.
  type: str
  returned: always
  sample: jovial-OST0000
formatted:
  description: Whether the device was formatted in this run (or would be, in check mode).
  type: bool
  returned: always
content:
  description: What the device held before the run, C(blank), C(this), C(target) or C(other).
  type: str
  returned: always
holds:
  description: The same in words (e.g. "an ext4 filesystem labelled 'scratch'").
  type: str
  returned: always
found_target:
  description: The label of the target found on the device (null when none).
  type: str
  returned: always
mmp:
  description: Multiple-mount protection is on (null when the device holds no ext4/ldiskfs).
  type: bool
  returned: always
mounted:
  description: The target runs on this host (lctl dl lists it UP; lab_ext4, mounted here).
  type: bool
  returned: always
recovery:
  description: Recovery status from lctl get_param (backend lustre, running MDT or OST).
  type: dict
  returned: when available
params:
  description: Permanent parameters read with tunefs.lustre (key -> values); lab_ext4, the MMP
    settings.
  type: dict
  returned: always
cmd:
  description: The commands that formatted the device (or would, in check mode).
  type: list
  elements: list
  returned: when formatted
"""

import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.lustre import (
        LustreParseError,
        classify,
        lustre_argument_problems,
        mkfs_ext4_argv,
        mkfs_lustre_argv,
        mount_sources,
        parse_blkid_export,
        parse_dumpe2fs_header,
        parse_lctl_dl,
        parse_recovery_status,
        parse_tunefs_dryrun,
        recovery_param,
        reformat_problem,
        refusal,
        target_label,
        target_problems,
        target_running,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.lustre import (
        LustreParseError,
        classify,
        lustre_argument_problems,
        mkfs_ext4_argv,
        mkfs_lustre_argv,
        mount_sources,
        parse_blkid_export,
        parse_dumpe2fs_header,
        parse_lctl_dl,
        parse_recovery_status,
        parse_tunefs_dryrun,
        recovery_param,
        reformat_problem,
        refusal,
        target_label,
        target_problems,
        target_running,
    )

BLKID_NOTHING_FOUND = 2  # blkid's exit status when the device has no signature


class Device:
    """Reads of one device through the module (run_command with a C locale)."""

    def __init__(self, module: AnsibleModule, path: str, backend: str) -> None:
        self.module = module
        self.path = path
        self.backend = backend

    def run(self, argv: list[str], what: str, ok: tuple[int, ...] = (0,)) -> tuple[int, str]:
        rc, out, err = self.module.run_command(argv)
        if rc not in ok:
            self.module.fail_json(msg=f"{what} failed", rc=rc, stdout=out, stderr=err, cmd=argv)
        return rc, out

    def blkid(self) -> dict[str, str]:
        argv = ["blkid", "-p", "-o", "export", self.path]
        rc, out = self.run(argv, f"blkid -p {self.path}", ok=(0, BLKID_NOTHING_FOUND))
        return {} if rc == BLKID_NOTHING_FOUND else parse_blkid_export(out)

    def tunefs(self) -> dict[str, Any] | None:
        """The Lustre data on the device, or None when tunefs.lustre finds none."""
        rc, out, _err = self.module.run_command(["tunefs.lustre", "--dryrun", self.path])
        if rc != 0:
            return None
        return parse_tunefs_dryrun(out)

    def dumpe2fs(self) -> dict[str, Any]:
        _rc, out = self.run(["dumpe2fs", "-h", self.path], f"dumpe2fs -h {self.path}")
        return parse_dumpe2fs_header(out)

    def mounted_here(self, label: str) -> bool:
        if self.backend == "lustre":
            rc, out, err = self.module.run_command(["lctl", "dl"])
            if rc != 0:
                if "/dev/obd" in (err + out):  # Lustre modules not loaded: nothing runs
                    return False
                self.module.fail_json(
                    msg="lctl dl failed", rc=rc, stdout=out, stderr=err, cmd=["lctl", "dl"]
                )
            return target_running(parse_lctl_dl(out), label)
        with open("/proc/self/mounts", encoding="utf-8") as handle:
            sources = mount_sources(handle.read())
        real = os.path.realpath(self.path)
        return any(os.path.realpath(source) == real for source in sources)

    def recovery(self, kind: str, label: str) -> dict[str, str] | None:
        param = recovery_param(kind, label)
        if param is None:
            return None
        rc, out, _err = self.module.run_command(["lctl", "get_param", "-n", param])
        return parse_recovery_status(out) if rc == 0 else None


def read_state(dev: Device, p: dict[str, Any], label: str) -> dict[str, Any]:
    """What the device holds now, as the module returns it."""
    probe = dev.blkid()
    tunefs = dev.tunefs() if dev.backend == "lustre" and probe else None
    content, found, holds = classify(label, probe, dev.backend, tunefs)
    ext = probe.get("TYPE") in ("ext4", "ldiskfs")
    e2 = dev.dumpe2fs() if ext else None
    state: dict[str, Any] = {
        "content": content,
        "found_target": found,
        "holds": holds,
        "mmp": e2["mmp"] if e2 else None,
        "mmp_in_use": e2["mmp_in_use"] if e2 else False,
        "mmp_node_name": e2["mmp_node_name"] if e2 else None,
        "params": {},
    }
    if tunefs is not None:
        state["params"] = tunefs["params"]
    elif e2 and e2["mmp"]:
        state["params"] = {"mmp_update_interval": e2["mmp_update_interval"]}
    state["mounted"] = content == "this" and dev.mounted_here(label)
    if dev.backend == "lustre" and state["mounted"]:
        recovery = dev.recovery(p["kind"], label)
        if recovery is not None:
            state["recovery"] = recovery
    return state


def format_commands(p: dict[str, Any], label: str) -> list[list[str]]:
    """The commands that (re)format the device. Pure."""
    device = p["device"]
    if p["backend"] == "lab_ext4":
        wipe = [["wipefs", "-a", device]] if p["reformat"] else []
        return [*wipe, mkfs_ext4_argv(device, label, p["mkfsoptions"])]
    return [
        mkfs_lustre_argv(
            device,
            p["fsname"],
            p["kind"],
            p["index"],
            [list(nids) for nids in p["mgsnode"]],
            p["servicenode"],
            p["backfstype"],
            p["mkfsoptions"],
            p["params"],
            reformat=p["reformat"],
        )
    ]


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "device": {"type": "path", "required": True},
            "fsname": {"type": "str", "required": True},
            "kind": {"type": "str", "required": True, "choices": ["mgt", "mdt", "ost"]},
            "index": {"type": "int", "default": 0},
            "mgsnode": {"type": "list", "elements": "list", "default": []},
            "servicenode": {"type": "list", "elements": "str", "default": []},
            "backfstype": {"type": "str", "default": "ldiskfs", "choices": ["ldiskfs"]},
            "mkfsoptions": {"type": "str"},
            "params": {"type": "list", "elements": "str", "default": []},
            "backend": {"type": "str", "default": "lustre", "choices": ["lustre", "lab_ext4"]},
            "state": {"type": "str", "default": "formatted", "choices": ["formatted", "status"]},
            "reformat": {"type": "bool", "default": False},
            "confirm": {"type": "str"},
        },
        supports_check_mode=True,
    )
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C"}
    p = module.params
    problems = target_problems(p["fsname"], p["kind"], p["index"])
    if problems:
        module.fail_json(msg="lustre_target: " + "; ".join(problems))
    label = target_label(p["fsname"], p["kind"], p["index"])
    if p["state"] == "formatted" and p["backend"] == "lustre":
        mgsnode = [[str(n) for n in nids] for nids in p["mgsnode"]]
        problems = lustre_argument_problems(p["kind"], mgsnode, p["servicenode"])
        if problems:
            module.fail_json(msg=f"lustre_target {label}: " + "; ".join(problems))
    problem = reformat_problem(p["reformat"], p["confirm"], label)
    if problem and p["state"] == "formatted":
        module.fail_json(msg=problem)
    if not os.path.exists(p["device"]):
        module.fail_json(
            msg=f"lustre_target {label}: device {p['device']} does not exist; check the target's "
            "device in lustre_targets (and that the storage is attached to this server)"
        )

    dev = Device(module, p["device"], p["backend"])
    try:
        before = read_state(dev, p, label)
        result: dict[str, Any] = {"changed": False, "target": label, "formatted": False, **before}
        if p["state"] == "status":
            module.exit_json(**result)
        if p["reformat"]:
            if before["mounted"]:
                module.fail_json(
                    msg=f"lustre_target: {label} is mounted on this host; stop it (the Pacemaker "
                    "resource) before reformatting",
                    **result,
                )
            if before["mmp_in_use"]:
                module.fail_json(
                    msg=f"lustre_target: device {p['device']} is in use by node "
                    f"'{before['mmp_node_name']}' (its MMP block is not clean); unmount it "
                    "there first (a crashed node's: run e2fsck -f on the device)",
                    **result,
                )
        elif before["content"] == "this":
            if before["mmp"] is False:
                module.fail_json(
                    msg=f"lustre_target: {label} on {p['device']} has no multiple-mount "
                    "protection, so both servers could mount it; enable it while unmounted "
                    f"everywhere: tune2fs -O mmp {p['device']}",
                    **result,
                )
            module.exit_json(**result)
        elif before["content"] != "blank":
            module.fail_json(msg=refusal(p["device"], before["holds"], label), **result)

        commands = format_commands(p, label)
        result.update(changed=True, formatted=True, cmd=commands)
        if module._diff:
            result["diff"] = {
                "before": f"{p['device']}: {before['holds']}\n",
                "after": f"{p['device']}: target {label}\n",
            }
        if module.check_mode:
            module.exit_json(**result)
        for argv in commands:
            dev.run(argv, f"{argv[0]} {label} on {p['device']}")
        after = read_state(dev, p, label)
        if after["content"] != "this" or not after["mmp"]:
            module.fail_json(
                msg=f"lustre_target: after formatting, {p['device']} holds {after['holds']} with "
                f"mmp={after['mmp']}; expected target {label} with multiple-mount protection",
                **result,
            )
        result.update({k: v for k, v in after.items() if k not in ("content", "holds")})
    except LustreParseError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
