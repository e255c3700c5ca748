#!/usr/bin/python
"""Documentation of the jovial_validate action (the code is plugins/action/jovial_validate.py).

Ansible documents an action that runs no module the same way (ansible.builtin.debug and
set_fact): a module file holding only DOCUMENTATION, EXAMPLES and RETURN, so that ansible-doc
shows it and ansible-test's action-plugin-docs finds it.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: jovial_validate
short_description: Check the whole inventory model on the control node, listing every problem
description:
  - Reads the inventory from the task variables (C(groups), C(hostvars) and the site-wide
    variables of C(group_vars/all)), templates what it reads, and runs the checks that
    C(plugins/module_utils/inventory_model.py) lists, one C(inventory_<layer>.py) module per
    layer (see C(docs/inventory.md)).
  - A variable of a role that the inventory does not set is read from that role's
    C(defaults/main.yml) and templated as the role would see it.
  - Fails with every problem at once, each naming the host or variable and the fix. Runs on
    the control node only, never runs a module and opens no connection, so a bad inventory
    changes nothing anywhere.
  - Secret values are only tested for being non-empty strings; neither they nor the text of a
    templating error about them reach the result.
  - C(playbooks/validate.yml), the first play of every entry playbook, runs it.
  - On success it sets the fact C(jovial_inventory_validated) on the play's hosts, so that
    the later validation plays of the same run skip.
version_added: "0.1.0"
author: Jovial maintainers (!UNKNOWN)
options:
  whole_site:
    description:
      - C(true) (the default, and C(site.yml)) also requires hosts in Jovial's groups; a
        whole-site run on an inventory without them means C(-i) points at the wrong place.
      - C(false) (a layer, recovery or restore playbook run on its own) checks what the
        inventory configures; an inventory may hold only that layer's hosts.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: Returns no diff; the action only reads.
notes:
  - This is an action plugin; it runs on the control node.
"""

EXAMPLES = r"""
# In a play on localhost:all with run_once: true and connection: local (playbooks/validate.yml).
- name: Validate | Check the inventory model
  jovial_validate:
  tags: [always]
"""

RETURN = r"""
msg:
  description: On failure a header and every problem, numbered; on success one line of counts.
  type: str
  returned: always
  sample: "Inventory valid: 10 hosts, 3 etcd members, 1 VIP, 4 Lustre targets, 1 required secret
    set"
problems:
  description: Every problem found, one sentence each.
  type: list
  elements: str
  returned: failed
summary:
  description: >-
    Counts of the valid inventory (hosts, groups with their sizes, etcd_members, vips,
    lustre_targets, required_secrets).
  type: dict
  returned: success
  sample:
    hosts: 10
    groups: {etcd: 3, proxy: 2}
    etcd_members: 3
    vips: 1
    lustre_targets: 4
    required_secrets: 1
ansible_facts:
  description: On success, the fact the later validation plays of the run test to skip.
  type: dict
  returned: success
  contains:
    jovial_inventory_validated:
      description: Always C(true).
      type: bool
      sample: true
"""
