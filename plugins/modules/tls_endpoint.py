#!/usr/bin/python
"""Ansible module tls_endpoint: handshake with a TLS server and report its certificate."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: tls_endpoint
short_description: Check a TLS endpoint against a CA and report its certificate's expiry
description:
  - Connects to I(host):I(port) from the node the task runs on, with SNI I(server_name),
    verifies the server certificate against I(ca_file) (chain and name), and reports the
    negotiated protocol, the certificate's names and how many days it has left.
  - Never changes anything. A failed verification or an unreachable endpoint is reported
    (C(verified=false), C(error)), not a module failure, so a verify play can assert on it
    with its own message.
version_added: "0.1.0"
author: Jovial maintainers (!UNKNOWN)
options:
  host:
    description: Address or name to connect to.
    type: str
    required: true
  port:
    description: TCP port.
    type: int
    default: 443
  server_name:
    description: Name sent as SNI and checked against the certificate (default I(host)).
    type: str
  ca_file:
    description: PEM file of the CA(s) the certificate must chain to.
    type: path
    required: true
  timeout:
    description: Seconds for connect and handshake.
    type: float
    default: 5
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Returns no diff; the module only reads.
"""

EXAMPLES = r"""
- name: Verify | Front door certificate through the VIP
  tls_endpoint:
    host: 10.77.0.100
    server_name: jovial.lab.jovial.internal
    ca_file: /usr/local/share/ca-certificates/jovial-lab-ca.crt
  register: tls
  failed_when: not tls.verified or tls.certificate.days_left < 14
"""

RETURN = r"""
verified:
  description: The handshake succeeded and the certificate chains to ca_file and matches
    server_name.
  type: bool
  returned: always
error:
  description: Why the connection or verification failed (empty when verified).
  type: str
  returned: always
protocol:
  description: Negotiated TLS version (e.g. TLSv1.3), empty on failure.
  type: str
  returned: always
cipher:
  description: Negotiated cipher suite, empty on failure.
  type: str
  returned: always
certificate:
  description: subject_cn, issuer_cn, subject_alt_names, not_before, not_after (ISO 8601 UTC),
    days_left, serial_number; empty when not verified.
  type: dict
  returned: always
"""

import datetime
import socket
import ssl
from typing import Any

from ansible.module_utils.basic import AnsibleModule

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.frontdoor import (
        summarize_peercert,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.frontdoor import summarize_peercert


def handshake(
    host: str, port: int, server_name: str, ca_file: str, timeout: float
) -> tuple[dict[str, Any], str, str]:
    """(getpeercert() dict, protocol, cipher) of a verified handshake; raises on failure."""
    context = ssl.create_default_context(cafile=ca_file)
    with (
        socket.create_connection((host, port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        cipher = tls.cipher()
        return tls.getpeercert(), tls.version() or "", cipher[0] if cipher else ""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "required": True},
            "port": {"type": "int", "default": 443},
            "server_name": {"type": "str"},
            "ca_file": {"type": "path", "required": True},
            "timeout": {"type": "float", "default": 5},
        },
        supports_check_mode=True,
    )
    p = module.params
    server_name = p["server_name"] or p["host"]
    result: dict[str, Any] = {
        "changed": False,
        "verified": False,
        "error": "",
        "protocol": "",
        "cipher": "",
        "certificate": {},
    }
    try:
        cert, protocol, cipher = handshake(
            p["host"], p["port"], server_name, p["ca_file"], p["timeout"]
        )
    except (OSError, ssl.SSLError, ValueError) as exc:
        result["error"] = f"{p['host']}:{p['port']} (SNI {server_name}): {exc}"
        module.exit_json(**result)
    result.update(
        verified=True,
        protocol=protocol,
        cipher=cipher,
        certificate=summarize_peercert(cert, datetime.datetime.now(datetime.UTC)),
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
