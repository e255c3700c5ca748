"""Spawner hooks that never block the hub's event loop.

JupyterHub runs ``Spawner.pre_spawn_hook`` and ``post_stop_hook`` on its only event loop. A
hook doing blocking work there (the user looked up through SSSD, a home made on the shared
filesystem, an accounting row committed to SQLite) holds up every other request meanwhile:
each login, each spawn, each request the proxy forwards to the hub. :func:`threaded` turns
plain synchronous hooks into one coroutine hook that runs them in a worker thread, in order;
JupyterHub awaits it (it accepts awaitable hooks).

In the systemd backend's ``jupyterhub_config.py``::

    c.Spawner.pre_spawn_hook = hooks.threaded(make_home, record_start)
    c.Spawner.post_stop_hook = hooks.threaded(record_stop)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["threaded"]

SyncHook = Callable[[Any], object]


def threaded(*hooks: SyncHook) -> Callable[[Any], Awaitable[None]]:
    """An awaitable hook running ``hooks`` one after the other in a worker thread, each with
    the spawner. The first to raise stops the rest, and its exception reaches JupyterHub (a
    pre-spawn hook's error fails the spawn with its message)."""
    if not hooks:
        raise ValueError("threaded() needs at least one hook")

    async def hook(spawner: Any) -> None:
        for one in hooks:
            await asyncio.to_thread(one, spawner)

    return hook
