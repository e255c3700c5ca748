"""Pure helpers for the jupyterhub_status module: URLs of JupyterHub's REST API and summaries
of its responses.

No Ansible imports; unit-tested on responses captured from a real JupyterHub 6.1.1
(tests/fixtures/jupyterhub/, see its README).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

# Ask the users list for the paginated shape: {"items": [...], "_pagination": {...}}.
PAGINATION_MEDIA_TYPE = "application/jupyterhub-pagination+json"


def api_url(base_url: str, path: str = "", query: Mapping[str, Any] | None = None) -> str:
    """``https://hub.example.org`` + ``users`` -> ``https://hub.example.org/hub/api/users``.
    A base that already ends in ``/hub/api`` (or ``/hub``) is accepted as is."""
    base = base_url.rstrip("/")
    for suffix in ("/hub/api", "/hub"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    url = f"{base}/hub/api/{path.lstrip('/')}"
    if query:
        url += "?" + urlencode(query)
    return url


def parse_version(body: Any) -> str:
    """The hub version from ``GET /hub/api/`` (``{"version": "6.1.1"}``)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("version"), str):
        raise ValueError(f"not a JupyterHub API root response (no version): {body!r:.200}")
    return body["version"]


def users_page(body: Any) -> tuple[list[Mapping[str, Any]], int | None]:
    """(users, next offset or None) of one ``GET /hub/api/users`` response, paginated
    (``{"items", "_pagination"}``) or a plain list (a hub that ignores pagination)."""
    if isinstance(body, list):
        return body, None
    if isinstance(body, Mapping) and isinstance(body.get("items"), list):
        following = (body.get("_pagination") or {}).get("next")
        return body["items"], (int(following["offset"]) if following else None)
    raise ValueError(f"not a JupyterHub users response: {body!r:.200}")


def summarize_users(users: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts and names from the users list: every server that is ``ready`` is running;
    one with ``pending`` set (spawn, stop) is pending."""
    users = list(users)
    running: list[str] = []
    pending: list[str] = []
    for user in users:
        for name, server in sorted((user.get("servers") or {}).items()):
            label = f"{user['name']}/{name}"
            if server.get("pending"):
                pending.append(f"{label} ({server['pending']})")
            elif server.get("ready"):
                running.append(label)
    return {
        "users": len(users),
        "admins": sum(1 for u in users if u.get("admin")),
        "running_servers": len(running),
        "pending_servers": len(pending),
        "running": running,
        "pending": pending,
    }
