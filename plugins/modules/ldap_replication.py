#!/usr/bin/python
"""Report the replication state of OpenLDAP providers (contextCSN per provider)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: ldap_replication
short_description: Report whether OpenLDAP providers hold the same content (contextCSN)
description:
  - Reads the C(contextCSN) of the suffix entry on every provider with C(ldapsearch) and
    compares them. Providers are in sync when every provider has the same CSN for every
    server id; otherwise the module reports, per provider, the server ids it is behind on and
    its lag in seconds.
  - Only reads; never changes anything (C(changed) is always false).
  - An unreachable provider is reported (C(providers[uri].error)) and makes C(in_sync) false;
    the module fails only on bad arguments or when I(fail_on_unreachable=true).
version_added: "0.1.0"
options:
  uris:
    description: Provider URIs (ldaps://, ldap:// with StartTLS, or ldapi:///).
    type: list
    elements: str
    required: true
  base:
    description: The suffix (base DN) whose contextCSN is compared.
    type: str
    required: true
  bind_dn:
    description: DN to bind with (simple bind). Without it, SASL EXTERNAL (ldapi only).
    type: str
  bind_pw:
    description: Password for I(bind_dn).
    type: str
  ca_file:
    description: CA certificate the providers' certificates are verified against.
    type: path
  timeout:
    description: Network timeout per provider, in seconds.
    type: int
    default: 5
  fail_on_unreachable:
    description: Fail when a provider cannot be queried, instead of reporting it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Returns no diff; the module only reads.
requirements: [ldap-utils (ldapsearch) on the host the module runs on]
author: Jovial maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Providers are in sync
  ldap_replication:
    uris: [ldaps://core1.lab.jovial.internal, ldaps://core2.lab.jovial.internal]
    base: dc=lab,dc=jovial,dc=internal
    bind_dn: cn=reader,ou=services,dc=lab,dc=jovial,dc=internal
    bind_pw: "{{ ldap_reader_password }}"
    ca_file: /etc/ldap/tls/ca.crt
  register: repl
  until: repl.in_sync
  retries: 10
  delay: 1
"""

RETURN = r"""
in_sync:
  description: Every provider answered and all contextCSN sets are equal.
  returned: always
  type: bool
providers:
  description: Per provider URI, its contextCSN by server id, or the error querying it.
  returned: always
  type: dict
  sample:
    ldaps://core1:
      context_csn: {"1": "20261122024512.345678Z#000000#001#000000"}
      error: null
newest:
  description: The newest CSN seen for each server id, over all providers.
  returned: always
  type: dict
lag_seconds:
  description: Per provider, how far (seconds) it is behind the newest change; null if unknown.
  returned: always
  type: dict
behind:
  description: Per provider, the server ids it is behind on.
  returned: always
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.ldap import (
        LdifError,
        compare_context_csns,
        context_csns,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.ldap import LdifError, compare_context_csns, context_csns


def search_argv(
    uri: str, base: str, bind_dn: str | None, pw_file: str | None, timeout: int
) -> list[str]:
    """The ldapsearch command reading the suffix entry's contextCSN from one provider."""
    argv = ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-o", f"nettimeout={timeout}", "-H", uri]
    if uri.startswith("ldap://"):
        argv.append("-ZZ")
    if bind_dn:
        argv += ["-x", "-D", bind_dn, "-y", pw_file or "/dev/null"]
    else:
        argv += ["-Q", "-Y", "EXTERNAL"]
    argv += ["-b", base, "-s", "base", "(objectClass=*)", "contextCSN"]
    return argv


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "uris": {"type": "list", "elements": "str", "required": True},
            "base": {"type": "str", "required": True},
            "bind_dn": {"type": "str"},
            "bind_pw": {"type": "str", "no_log": True},
            "ca_file": {"type": "path"},
            "timeout": {"type": "int", "default": 5},
            "fail_on_unreachable": {"type": "bool", "default": False},
        },
        required_together=[("bind_dn", "bind_pw")],
        supports_check_mode=True,
    )
    params = module.params
    if not params["uris"]:
        module.fail_json(msg="uris is empty; list the providers, e.g. [ldaps://core1.example.org]")
    env = {"LC_ALL": "C", "LDAPTLS_REQCERT": "demand"}
    if params["ca_file"]:
        env["LDAPTLS_CACERT"] = params["ca_file"]
    module.run_command_environ_update = env

    pw_file = None
    if params["bind_dn"]:
        pw_file = os.path.join(module.tmpdir, "ldap_replication.pw")
        fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(params["bind_pw"])

    providers: dict[str, dict] = {}
    csns_by_uri: dict[str, dict[int, str]] = {}
    for uri in params["uris"]:
        cmd = search_argv(uri, params["base"], params["bind_dn"], pw_file, params["timeout"])
        rc, out, err = module.run_command(cmd)
        if rc != 0:
            message = f"ldapsearch on {uri} failed (rc={rc}): {err.strip() or out.strip()}"
            if params["fail_on_unreachable"]:
                module.fail_json(msg=message, rc=rc, stdout=out, stderr=err, cmd=cmd)
            providers[uri] = {"context_csn": {}, "error": message}
            continue
        try:
            csns = context_csns(out)
        except (LdifError, ValueError) as exc:
            module.fail_json(
                msg=f"cannot parse ldapsearch output from {uri}: {exc}", stdout=out, cmd=cmd
            )
        csns_by_uri[uri] = csns
        providers[uri] = {
            "context_csn": {str(sid): csn for sid, csn in sorted(csns.items())},
            "error": None
            if csns
            else f"{uri} has no contextCSN on {params['base']} (empty or not a provider)",
        }

    state = compare_context_csns(csns_by_uri)
    reachable = all(info["error"] is None for info in providers.values())
    module.exit_json(
        changed=False,
        in_sync=bool(state["in_sync"] and reachable),
        providers=providers,
        newest=state["newest"],
        lag_seconds=state["lag_seconds"],
        behind=state["behind"],
    )


if __name__ == "__main__":
    main()
