#!/usr/bin/python
"""Ansible module lnet_net: add or delete one LNet network with lnetctl, idempotently."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lnet_net
short_description: Add or delete an LNet network (lnetctl), optionally persisted
description:
  - Reads C(lnetctl net show --verbose) first and changes nothing when the network already has
    exactly the requested interfaces. Otherwise adds it (C(lnetctl net add --net N --if I,J)),
    adds or deletes single interfaces of it, or deletes it (C(lnetctl net del --net N)).
  - When LNet is loaded but not configured (C(lnetctl net show) reports "Network is down"), runs
    C(lnetctl lnet configure) first (not in check mode).
  - With I(persist=true), writes C(lnetctl export --backup) to I(config_file) when its content
    differs, so C(lnet.service) brings the same networks back after a reboot.
  - Network names are compared as lnetctl shows them (C(o2ib0) is C(o2ib), C(tcp0) is C(tcp)).
version_added: "0.1.0"
requirements: [PyYAML (python3-yaml) on the host the module runs on]
author: Jovial maintainers (!UNKNOWN)
options:
  name:
    description: The LNet network (C(o2ib0), C(o2ib1), C(tcp0)).
    type: str
    required: true
  interfaces:
    description: Its interfaces (IPoIB C(ib0) in production, C(eth0) in the lab). Required when
      I(state=present).
    type: list
    elements: str
    default: []
  state:
    description: C(present) or C(absent).
    type: str
    choices: [present, absent]
    default: present
  persist:
    description: Write the exported configuration to I(config_file) when it differs.
    type: bool
    default: false
  config_file:
    description: Where lnet.service reads the configuration.
    type: path
    default: /etc/lnet.conf
attributes:
  check_mode:
    support: full
    description: Runs only C(lnetctl net show) (and C(lnetctl export) when I(persist=true)).
  diff_mode:
    support: full
    description: Networks before and after, one line each (lo left out).
"""

EXAMPLES = r"""
- name: Configure | LNet over IPoIB
  lnet_net:
    name: o2ib0
    interfaces: [ib0]
    persist: true

- name: Configure | Remove the old tcp network
  lnet_net:
    name: tcp0
    state: absent
"""

RETURN = r"""
nids:
  description: The network's NIDs after the run (empty when absent).
  type: list
  elements: str
  returned: always
  sample: [10.80.0.41@o2ib]
nets:
  description: Every LNet network after the run (net, nis with nid, status, interfaces).
  type: list
  elements: dict
  returned: always
commands:
  description: The lnetctl commands that ran (or would, in check mode).
  type: list
  elements: list
  returned: always
"""

import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.lnet import (
        HAS_YAML,
        YAML_IMPORT_ERROR,
        LNetDown,
        LNetError,
        describe,
        find_net,
        net_nids,
        normalize_net,
        parse_net_show,
        plan,
        predict,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.lnet import (
        HAS_YAML,
        YAML_IMPORT_ERROR,
        LNetDown,
        LNetError,
        describe,
        find_net,
        net_nids,
        normalize_net,
        parse_net_show,
        plan,
        predict,
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "interfaces": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "persist": {"type": "bool", "default": False},
            "config_file": {"type": "path", "default": "/etc/lnet.conf"},
        },
        required_if=[("state", "present", ("interfaces",))],
        supports_check_mode=True,
    )
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C"}
    p = module.params
    lnetctl = module.get_bin_path("lnetctl")
    if lnetctl is None:
        module.fail_json(
            msg="lnet_net: lnetctl is not installed; install the Lustre packages (the lnet "
            "role does) and run again"
        )

    def run(args: list[str], what: str) -> str:
        cmd = [lnetctl, *args]
        rc, out, err = module.run_command(cmd)
        if rc != 0:
            module.fail_json(msg=f"{what} failed", rc=rc, stdout=out, stderr=err, cmd=cmd)
        return out

    def show() -> list[dict[str, Any]]:
        cmd = [lnetctl, "net", "show", "--verbose"]
        _rc, out, err = module.run_command(cmd)
        return parse_net_show(out or err)

    result: dict[str, Any] = {"changed": False, "commands": []}
    try:
        normalize_net(p["name"])
        try:
            before = show()
        except LNetDown:
            result["commands"].append(["lnet", "configure"])
            result["changed"] = True
            if module.check_mode:
                before = []
            else:
                run(["lnet", "configure"], "lnetctl lnet configure")
                before = show()
        commands = plan(before, p["name"], p["interfaces"], p["state"])
        result["commands"] += commands
        result["changed"] = result["changed"] or bool(commands)
        after = before
        if commands and not module.check_mode:
            for args in commands:
                run(args, f"lnetctl {' '.join(args[:2])} {p['name']}")
            after = show()
        elif commands:
            after = predict(before, p["name"], p["interfaces"], p["state"])
        if p["persist"] and not (module.check_mode and result["changed"]):
            exported = run(["export", "--backup"], "lnetctl export --backup")
            current = None
            if os.path.exists(p["config_file"]):
                with open(p["config_file"], encoding="utf-8") as handle:
                    current = handle.read()
            if current != exported:
                result["changed"] = True
                result["persisted"] = p["config_file"]
                if not module.check_mode:
                    module.atomic_move(_write_temp(module, exported), p["config_file"])
        result["nets"] = after
        result["nids"] = net_nids(find_net(after, p["name"]))
        if module._diff:
            result["diff"] = {"before": describe(before), "after": describe(after)}
    except LNetError as exc:
        module.fail_json(msg=f"lnet_net {p['name']}: {exc}")
    module.exit_json(**result)


def _write_temp(module: AnsibleModule, content: str) -> str:
    path = os.path.join(module.tmpdir, "lnet.conf")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(path, 0o644)
    return path


if __name__ == "__main__":
    main()
