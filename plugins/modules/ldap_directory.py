#!/usr/bin/python
"""Keep a set of OpenLDAP entries equal to the inventory, in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
module: ldap_directory
short_description: Keep many LDAP entries, their attributes and passwords equal to the inventory
description:
  - Reads every entry in I(entries) over one connection, then creates the missing ones, keeps
    each listed attribute exactly equal to its wanted values (an empty value removes it;
    attributes not listed are left alone), sets a password only when a bind with it fails
    (the server hashes it, see C(olcPasswordHash)), and deletes the entries in I(absent).
  - Does what C(community.general.ldap_entry), C(ldap_attrs) (C(state=exact)) and
    C(ldap_passwd) do, but in one module run for the whole directory content instead of one per
    entry and attribute (each costs a Python start and a connection on the server).
  - Entries are applied in the order given (parents first). Everything is read and planned
    before the first write; a write the server refuses fails the module naming the entry and
    listing the entries already changed.
  - Object classes are set when an entry is created and never changed afterwards. An entry
    created with a I(password) first gets C(userPassword={CRYPT}*) (matches no password), then
    its password through the password-modify extended operation.
version_added: "0.1.0"
options:
  server_uri:
    description: The server. The default binds with SASL EXTERNAL over the local socket (root).
    type: str
    default: ldapi:///
  bind_dn:
    description: DN to bind with (simple bind). Without it, SASL EXTERNAL.
    type: str
  bind_pw:
    description: Password for I(bind_dn).
    type: str
  entries:
    description: The entries that must exist, parents before children.
    type: list
    elements: dict
    default: []
    suboptions:
      dn:
        description: The entry's DN.
        type: str
        required: true
      object_class:
        description: Its object classes (used when it is created).
        type: list
        elements: str
        required: true
      attributes:
        description: Attribute name -> value or list of values, kept exactly so.
        type: dict
        default: {}
      password:
        description: The password a simple bind as I(dn) must accept.
        type: str
  absent:
    description: DNs of entries that must not exist (leaf entries; children first).
    type: list
    elements: str
    default: []
  timeout:
    description: Network timeout, in seconds.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
    description: Reads and plans every entry (password checks are binds); writes nothing.
  diff_mode:
    support: full
    description: One before/after diff per entry added, modified or deleted.
requirements: [python3-ldap (python-ldap) on the host the module runs on]
author: Jovial maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Users of the inventory
  ldap_directory:
    entries:
      - dn: uid=ada,ou=people,dc=lab,dc=jovial,dc=internal
        object_class: [top, inetOrgPerson, posixAccount]
        attributes: {cn: Ada Lab, sn: Lab, uidNumber: 10001, gidNumber: 10100,
                     homeDirectory: /lustre/home/ada, loginShell: /bin/bash}
        password: "{{ vault_ldap_password_ada }}"
    absent:
      - uid=gone,ou=people,dc=lab,dc=jovial,dc=internal
"""

RETURN = r"""
added:
  description: DNs created.
  returned: always
  type: list
modified:
  description: Per DN changed, the attributes replaced or removed.
  returned: always
  type: dict
passwords_set:
  description: DNs whose password was set (a bind with the wanted password had failed).
  returned: always
  type: list
deleted:
  description: DNs deleted.
  returned: always
  type: list
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.ldap import (
        changes_diff,
        entry_changes,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.ldap import changes_diff, entry_changes

try:
    import ldap
    import ldap.sasl
except ImportError:
    HAS_LDAP = False
    LDAP_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_LDAP = True
    LDAP_IMPORT_ERROR = None


def connect(params: dict):
    conn = ldap.initialize(params["server_uri"])
    conn.set_option(ldap.OPT_REFERRALS, 0)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, params["timeout"])
    if params["bind_dn"]:
        conn.simple_bind_s(params["bind_dn"], params["bind_pw"])
    else:
        conn.sasl_interactive_bind_s("", ldap.sasl.external())
    return conn


def read(conn, dn: str, names: list[str]) -> dict | None:
    """The entry's listed attributes (and objectClass), or None when it does not exist."""
    try:
        result = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", [*names, "objectClass"])
    except ldap.NO_SUCH_OBJECT:
        return None
    return dict(result[0][1]) if result else None


def password_works(params: dict, dn: str, password: str) -> bool:
    probe = ldap.initialize(params["server_uri"])
    probe.set_option(ldap.OPT_NETWORK_TIMEOUT, params["timeout"])
    try:
        probe.simple_bind_s(dn, password)
    except ldap.INVALID_CREDENTIALS:
        return False
    finally:
        probe.unbind_s()
    return True


def describe(exc: Exception) -> str:
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    return " ".join(str(info.get(k, "")) for k in ("desc", "info")).strip() or str(exc)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "server_uri": {"type": "str", "default": "ldapi:///"},
            "bind_dn": {"type": "str"},
            "bind_pw": {"type": "str", "no_log": True},
            "entries": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "dn": {"type": "str", "required": True},
                    "object_class": {"type": "list", "elements": "str", "required": True},
                    "attributes": {"type": "dict", "default": {}},
                    "password": {"type": "str", "no_log": True},
                },
            },
            "absent": {"type": "list", "elements": "str", "default": []},
            "timeout": {"type": "int", "default": 10},
        },
        required_together=[("bind_dn", "bind_pw")],
        supports_check_mode=True,
    )
    if not HAS_LDAP:
        module.fail_json(msg=missing_required_lib("python-ldap"), exception=LDAP_IMPORT_ERROR)
    params = module.params
    dns = [e["dn"] for e in params["entries"]]
    twice = sorted({dn for dn in dns if dns.count(dn) > 1})
    both = sorted(set(dns) & set(params["absent"]))
    if twice or both:
        module.fail_json(
            msg=f"entries list {', '.join(twice)} more than once"
            if twice
            else f"{', '.join(both)} is both in entries and in absent; keep it in one of them"
        )

    try:
        conn = connect(params)
    except ldap.LDAPError as exc:
        module.fail_json(msg=f"cannot bind to {params['server_uri']}: {describe(exc)}")

    # Read and plan everything before the first write.
    plans = []
    try:
        for entry in params["entries"]:
            current = read(conn, entry["dn"], list(entry["attributes"]))
            try:
                change = entry_changes(entry["object_class"], entry["attributes"], current)
            except ValueError as exc:
                module.fail_json(msg=f"{entry['dn']}: {exc}")
            # Created locked ({CRYPT}* matches no password), then given its password below.
            has_password = any(n.lower() == "userpassword" for n, _v in change.get("attrs", []))
            if change["action"] == "add" and entry["password"] is not None and not has_password:
                change["attrs"].append(("userPassword", [b"{CRYPT}*"]))
            set_password = entry["password"] is not None and (
                current is None or not password_works(params, entry["dn"], entry["password"])
            )
            plans.append((entry, current, change, set_password))
        gone = [dn for dn in params["absent"] if read(conn, dn, ["1.1"]) is not None]
    except ldap.LDAPError as exc:
        uri = params["server_uri"]
        module.fail_json(msg=f"cannot read the directory at {uri}: {describe(exc)}")

    result = {"changed": False, "added": [], "modified": {}, "passwords_set": [], "deleted": []}
    diffs = []
    done: list[str] = []
    for entry, current, change, set_password in plans:
        dn = entry["dn"]
        if change["action"] != "none":
            diffs.append(changes_diff(dn, change, current))
        try:
            if change["action"] == "add":
                if not module.check_mode:
                    conn.add_s(dn, change["attrs"])
                result["added"].append(dn)
            elif change["action"] == "modify":
                if not module.check_mode:
                    ops = {"replace": ldap.MOD_REPLACE, "delete": ldap.MOD_DELETE}
                    conn.modify_s(
                        dn, [(ops[op], name, values or None) for op, name, values in change["mods"]]
                    )
                result["modified"][dn] = [name for _op, name, _v in change["mods"]]
            if set_password:
                if not module.check_mode:
                    conn.passwd_s(dn, None, entry["password"])
                result["passwords_set"].append(dn)
        except ldap.LDAPError as exc:
            module.fail_json(
                msg=f"{dn}: the server refused the change: {describe(exc)}",
                changed=bool(done),
                already_changed=done,
            )
        if change["action"] != "none" or set_password:
            done.append(dn)
    for dn in gone:
        diffs.append(changes_diff(dn, {"action": "delete"}, None))
        try:
            if not module.check_mode:
                conn.delete_s(dn)
        except ldap.NOT_ALLOWED_ON_NONLEAF:
            module.fail_json(
                msg=f"{dn} still has entries below it; list those in absent before it",
                changed=bool(done),
                already_changed=done,
            )
        except ldap.LDAPError as exc:
            module.fail_json(msg=f"{dn}: cannot delete: {describe(exc)}", changed=bool(done))
        result["deleted"].append(dn)
        done.append(dn)
    conn.unbind_s()
    result["changed"] = bool(done)
    if module._diff and diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
