#!/usr/bin/python
"""Ansible module jupyterhub_status: check a JupyterHub through its REST API."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: jupyterhub_status
short_description: Check a JupyterHub through its REST API (version, users, running servers)
description:
  - Calls C(GET /hub/api/) on I(url) and reports the hub's version. With I(api_token), also
    lists the users (C(GET /hub/api/users), following pagination) and reports how many there
    are and which servers are running or pending.
  - Never changes anything; runs the same in check mode.
  - Fails when the hub does not answer, answers with an HTTP error (a bad or under-scoped
    token gets 403) or answers something that is not the JupyterHub API.
  - The token needs the scopes C(list:users), C(read:users) and C(read:servers) (a service
    token with a role holding them).
version_added: "0.1.0"
author: Jovial maintainers (!UNKNOWN)
options:
  url:
    description:
      - Base URL of the hub (its public URL through the front door, or the proxy or hub
        address); C(/hub/api/) is appended.
    type: str
    required: true
  api_token:
    description:
      - "API token, sent as C(Authorization: token ...) and never logged. Without it only the
        version is checked."
    type: str
  ca_file:
    description: PEM file of the CA(s) the hub's certificate must chain to (HTTPS).
    type: path
  validate_certs:
    description: Verify the server's certificate (leave true outside tests).
    type: bool
    default: true
  timeout:
    description: Seconds per HTTP request.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Returns no diff; the module only reads.
"""

EXAMPLES = r"""
- name: Verify | Hub answers through the VIP and lists its users
  jupyterhub_status:
    url: "https://{{ jovial_public_name }}"
    ca_file: /usr/local/share/ca-certificates/jovial-ca.crt
    api_token: "{{ vault_jupyterhub_verify_token }}"
  register: hub
  failed_when: hub.version is version('5.0', '<') or hub.running_servers is none

- name: Verify | Hub version only (no token)
  jupyterhub_status:
    url: http://127.0.0.1:8081
"""

RETURN = r"""
version:
  description: JupyterHub version reported by the API.
  type: str
  returned: always
  sample: "6.1.1"
users:
  description: Number of users (null without api_token).
  type: int
  returned: always
admins:
  description: Number of admin users (null without api_token).
  type: int
  returned: always
running_servers:
  description: Number of servers that are ready (null without api_token).
  type: int
  returned: always
pending_servers:
  description: Number of servers being started or stopped (null without api_token).
  type: int
  returned: always
running:
  description: The running servers as C(user/servername) (default server C(user/)).
  type: list
  elements: str
  returned: always
pending:
  description: The pending servers as C(user/servername (action)).
  type: list
  elements: str
  returned: always
"""

# Imports follow DOCUMENTATION/EXAMPLES/RETURN (Ansible module layout, STYLE.md).
import contextlib
import json
from typing import Any
from urllib.error import HTTPError, URLError

from ansible.module_utils.basic import AnsibleModule

try:  # as the collection jovial.platform (ansible-test, or installed)
    from ansible_collections.jovial.platform.plugins.module_utils.jupyterhub_api import (
        PAGINATION_MEDIA_TYPE,
        api_url,
        parse_version,
        summarize_users,
        users_page,
    )
except ImportError:  # from this checkout's roles (ansible.cfg's module_utils path)
    from ansible.module_utils.jupyterhub_api import (
        PAGINATION_MEDIA_TYPE,
        api_url,
        parse_version,
        summarize_users,
        users_page,
    )
from ansible.module_utils.urls import open_url

PAGE_SIZE = 200
MAX_PAGES = 1000


class HubError(Exception):
    """The hub did not give a usable answer; the message says which URL and why."""


def get_json(url: str, params: dict[str, Any], headers: dict[str, str]) -> Any:
    """GET url and decode its JSON body; HubError on any failure (the token is never in it)."""
    try:
        response = open_url(
            url,
            method="GET",
            headers=headers,
            timeout=params["timeout"],
            validate_certs=params["validate_certs"],
            ca_path=params["ca_file"],
        )
        body = response.read()
    except HTTPError as exc:
        detail = ""
        with contextlib.suppress(ValueError, AttributeError):
            detail = json.loads(exc.read() or b"{}").get("message", "")
        raise HubError(f"GET {url}: HTTP {exc.code} {detail or exc.reason}".rstrip()) from None
    except (URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HubError(f"GET {url}: {reason}") from None
    try:
        return json.loads(body)
    except ValueError:
        raise HubError(f"GET {url}: not JSON: {body[:200]!r}") from None


def list_users(params: dict[str, Any]) -> list[Any]:
    headers = {"Authorization": f"token {params['api_token']}", "Accept": PAGINATION_MEDIA_TYPE}
    users: list[Any] = []
    offset: int | None = 0
    for _page in range(MAX_PAGES):
        url = api_url(params["url"], "users", {"offset": offset, "limit": PAGE_SIZE})
        try:
            page, offset = users_page(get_json(url, params, headers))
        except ValueError as exc:
            raise HubError(f"GET {url}: {exc}") from None
        users.extend(page)
        if offset is None:
            return users
    raise HubError(f"more than {MAX_PAGES * PAGE_SIZE} users, or the hub's pagination loops")


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "api_token": {"type": "str", "no_log": True},
            "ca_file": {"type": "path"},
            "validate_certs": {"type": "bool", "default": True},
            "timeout": {"type": "float", "default": 10},
        },
        supports_check_mode=True,
    )
    params = module.params
    result: dict[str, Any] = {
        "changed": False,
        "version": "",
        "users": None,
        "admins": None,
        "running_servers": None,
        "pending_servers": None,
        "running": [],
        "pending": [],
    }
    root = api_url(params["url"])
    try:
        try:
            result["version"] = parse_version(get_json(root, params, {}))
        except ValueError as exc:
            raise HubError(f"GET {root}: {exc}") from None
        if params["api_token"]:
            result.update(summarize_users(list_users(params)))
    except HubError as exc:
        module.fail_json(msg=str(exc), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
