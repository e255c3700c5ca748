#!/usr/bin/python
"""Ansible module vip_status: which of the given virtual addresses this node holds now."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vip_status
short_description: Report which virtual IP addresses are configured on this node
description:
  - Runs C(ip -o addr show) and reports which of the given addresses (keepalived VIPs) are
    configured on this node, and on which interface.
  - Never changes anything. Run it on every carrier of a VIP and compare the results; exactly
    one of them must hold it (playbooks/verify.yml).
version_added: "0.1.0"
author: Jovial maintainers (!UNKNOWN)
options:
  addresses:
    description: VIP addresses to look for.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Returns no diff; the module only reads.
"""

EXAMPLES = r"""
- name: Verify | Who holds the proxy VIP
  vip_status:
    addresses: [10.77.0.100]
  register: vip
"""

RETURN = r"""
held:
  description: The given addresses configured on this node (subset of addresses, same spelling).
  type: list
  elements: str
  returned: always
interfaces:
  description: address -> interface, for the held addresses.
  type: dict
  returned: always
addresses:
  description: Every address configured on the node (interface, family, address, prefixlen,
    label, secondary), as parsed from C(ip -o addr show).
  type: list
  elements: dict
  returned: always
"""

import ipaddress

from ansible.module_utils.basic import AnsibleModule

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.frontdoor import (
        parse_ip_addr_oneline,
        vips_held,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.frontdoor import parse_ip_addr_oneline, vips_held

IP_ARGV = ["ip", "-o", "addr", "show"]


def main() -> None:
    module = AnsibleModule(
        argument_spec={"addresses": {"type": "list", "elements": "str", "required": True}},
        supports_check_mode=True,
    )
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C"}
    bad = []
    for address in module.params["addresses"]:
        try:
            ipaddress.ip_address(address.strip())
        except ValueError:
            bad.append(address)
    if bad:
        module.fail_json(msg=f"addresses: {bad} are not IP addresses; list the VIPs' addresses")
    argv = [module.get_bin_path("ip", required=True), *IP_ARGV[1:]]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg="ip -o addr show failed", rc=rc, stdout=out, stderr=err, cmd=argv)
    entries = parse_ip_addr_oneline(out)
    held = vips_held(entries, module.params["addresses"])
    module.exit_json(
        changed=False,
        held=[a for a in module.params["addresses"] if a in held],
        interfaces=held,
        addresses=entries,
    )


if __name__ == "__main__":
    main()
