#!/usr/bin/python
"""Ansible module ib_facts: InfiniBand HCAs and ports as facts (ibstat, ibv_devinfo)."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ib_facts
short_description: Report InfiniBand HCAs and their ports as facts
description:
  - Runs C(ibstat) (infiniband-diags) and, when installed, C(ibv_devinfo) (ibverbs-utils), and
    returns C(ansible_facts.infiniband) with every device and port (state, physical state, rate,
    LIDs, GUIDs, link layer, firmware; MTUs and board id from ibv_devinfo).
  - Also returns C(problems), one sentence per InfiniBand port that is not Active/LinkUp or runs
    below I(min_rate), for roles to assert on. Never changes anything.
  - Fails with the package to install when ibstat is missing. A host without HCAs gets an
    empty device list (ibstat prints nothing there).
version_added: "0.1.0"
author: Jovial maintainers (!UNKNOWN)
options:
  device:
    description: Only this HCA (e.g. C(mlx5_0)).
    type: str
  min_rate:
    description: Lowest acceptable port rate in Gb/s for C(problems) (0 does not check).
    type: int
    default: 0
  devinfo:
    description: Also read C(ibv_devinfo) when it is installed.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Only reads.
  diff_mode:
    support: none
    description: Returns no diff; the module only reads.
"""

EXAMPLES = r"""
- name: Assert | Read the HCAs
  ib_facts:
    min_rate: 100
  register: __infiniband_facts

- name: Assert | Every InfiniBand port is up at full rate
  ansible.builtin.assert:
    that: __infiniband_facts.problems | length == 0
    fail_msg: "{{ __infiniband_facts.problems | join('; ') }}"
"""

RETURN = r"""
ansible_facts:
  description: C(infiniband.devices) (device -> fields and C(ports), port number -> fields;
    port numbers are strings, as in any JSON object key).
  type: dict
  returned: always
  sample:
    infiniband:
      devices:
        mlx5_0:
          fw_ver: 20.31.1014
          node_guid: "0x0c42a10300ab1234"
          ports:
            "1": {state: Active, physical_state: LinkUp, rate: 100, base_lid: 12, sm_lid: 1,
                link_layer: InfiniBand, port_guid: "0x0c42a10300ab1235"}
problems:
  description: InfiniBand ports not Active/LinkUp or below I(min_rate), one sentence each.
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.infiniband import (
        InfinibandParseError,
        merge,
        parse_ibstat,
        parse_ibv_devinfo,
        port_problems,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.infiniband import (
        InfinibandParseError,
        merge,
        parse_ibstat,
        parse_ibv_devinfo,
        port_problems,
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "device": {"type": "str"},
            "min_rate": {"type": "int", "default": 0},
            "devinfo": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C"}
    device = module.params["device"]
    ibstat = module.get_bin_path("ibstat")
    if ibstat is None:
        module.fail_json(
            msg="ib_facts: ibstat is not installed; install infiniband-diags (the infiniband "
            "role does) and run again"
        )
    cmd = [ibstat, *([device] if device else [])]
    rc, out, err = module.run_command(cmd)
    if rc != 0:
        module.fail_json(msg="ibstat failed", rc=rc, stdout=out, stderr=err, cmd=cmd)
    try:
        devices = parse_ibstat(out)
        devinfo_bin = module.get_bin_path("ibv_devinfo") if module.params["devinfo"] else None
        if devinfo_bin and devices:
            cmd = [devinfo_bin, *(["-d", device] if device else [])]
            rc, out, err = module.run_command(cmd)
            if rc != 0:
                module.fail_json(msg="ibv_devinfo failed", rc=rc, stdout=out, stderr=err, cmd=cmd)
            devices = merge(devices, parse_ibv_devinfo(out))
    except InfinibandParseError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(
        changed=False,
        ansible_facts={"infiniband": {"devices": devices}},
        problems=port_problems(devices, module.params["min_rate"]),
    )


if __name__ == "__main__":
    main()
