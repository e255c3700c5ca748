"""Dask Gateway's LocalBackend with the gaps a shared platform cannot leave open.

Upstream's LocalBackend (dask-gateway-server) starts each cluster's scheduler and workers as
processes of the requesting user on the gateway host. Three things it does not do, which this
backend adds (the role README, roles/dask_gateway/README.md, says why each matters):

- **The user's directory groups.** Upstream sets supplementary groups from ``grp.getgrall()``,
  which SSSD does not enumerate (``enumerate = false``): workers would lose the project groups
  a notebook has. Here they come from ``os.getgrouplist`` (NSS ``initgroups``, which SSSD
  answers), exactly what a login gets.
- **Nothing outside the cluster's directory changes owner.** Upstream's working-directory
  setup (dask-gateway-server 2026.3.0, ``LocalBackend.setup_working_directory``) extends its
  list of paths to chown with the *characters* of the key and certificate paths
  (``paths.extend(path)``), so the first of them, ``/``, is given to the user: the user then
  owns the root directory of the gateway host. :func:`prepare_workdir` replaces it and gives
  exactly the cluster's directories and files to the user.
- **Clusters per user.** Upstream limits one cluster (cores, memory, workers) but not how
  many clusters a user runs. :attr:`JovialLocalBackend.max_clusters_per_user` refuses one more
  with a message the user reads in the notebook.
- **Clusters live as long as the user's server.** Upstream never ties a cluster to the
  notebook server that made it, so a stopped (or culled) server leaves its clusters running.
  Every :attr:`JovialLocalBackend.server_check_period` seconds the gateway asks JupyterHub
  (its service token: ``read:users:name``, ``read:servers``) which owners still have a server,
  and stops the clusters of those who have none.
"""

from __future__ import annotations

import asyncio
import os
import pwd
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

__all__ = [
    "cluster_limit_message",
    "owners_without_server",
    "prepare_workdir",
    "supplementary_groups",
]


def supplementary_groups(
    username: str,
    getpwnam: Callable[[str], Any] = pwd.getpwnam,
    getgrouplist: Callable[[str, int], list[int]] = os.getgrouplist,
) -> tuple[int, int, list[int]]:
    """``(uid, gid, groups)`` of ``username`` as a login gets them: the primary group and
    every group NSS (SSSD) reports for the user, primary first, no duplicates.

    Raises ``LookupError`` naming the user when the node does not know them."""
    try:
        entry = getpwnam(username)
    except KeyError as exc:
        raise LookupError(
            f"user {username!r} is not known on the gateway host; check the directory "
            f"(getent passwd {username}) and SSSD on this node"
        ) from exc
    groups = list(dict.fromkeys([entry.pw_gid, *getgrouplist(username, entry.pw_gid)]))
    return entry.pw_uid, entry.pw_gid, groups


def prepare_workdir(
    root: str, name: str, cert: bytes, key: bytes, uid: int, gid: int
) -> tuple[str, str, str]:
    """Make the working directory of cluster ``name`` under ``root`` for the user ``uid:gid``:
    ``<root>/<name>`` with ``.certs/dask.crt``, ``.certs/dask.pem`` (0600) and ``logs/``, all
    0700 and owned by the user, nothing else touched. Returns ``(workdir, cert, key)`` paths.

    ``root`` is the gateway's (root-owned, users may only traverse it), so the user cannot
    have planted a link there; the directory must not exist yet (a cluster name is new)."""
    workdir = os.path.join(root, name)
    certs = os.path.join(workdir, ".certs")
    logs = os.path.join(workdir, "logs")
    os.mkdir(workdir, 0o700)
    os.mkdir(certs, 0o700)
    os.mkdir(logs, 0o700)
    cert_path = os.path.join(certs, "dask.crt")
    key_path = os.path.join(certs, "dask.pem")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    for path, data in ((cert_path, cert), (key_path, key)):
        with os.fdopen(os.open(path, flags, 0o600), "wb") as handle:
            handle.write(data)
    for path in (workdir, certs, logs, cert_path, key_path):
        os.chown(path, uid, gid, follow_symlinks=False)
    return workdir, cert_path, key_path


def cluster_limit_message(username: str, running: Iterable[str], limit: int) -> str | None:
    """The refusal a user reads when ``running`` (names of their active clusters) already
    reaches ``limit``; None when one more cluster is allowed (``limit`` 0: no limit)."""
    names = sorted(running)
    if limit <= 0 or len(names) < limit:
        return None
    shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
    return (
        f"{username} already runs {len(names)} Dask cluster(s) ({shown}); the limit is "
        f"{limit} per user. Stop one first: cluster.shutdown(), or "
        "Gateway().stop_cluster(name) for a cluster listed by Gateway().list_clusters()."
    )


def owners_without_server(
    owners: Iterable[str], users: Mapping[str, Mapping[str, Any] | None]
) -> set[str]:
    """Owners of clusters whose JupyterHub user has no server running or starting.

    ``users`` maps a name to its JupyterHub user model (``GET /users/<name>`` with
    ``read:servers``), or None when the hub does not know the user (deleted). An owner the
    hub could not be asked about is left out of ``users`` and never counted: a hub that is
    down must not stop everyone's clusters."""
    out = set()
    for owner in set(owners):
        if owner not in users:
            continue
        model = users[owner]
        servers = (model or {}).get("servers") or {}
        if not any(s.get("ready") or s.get("pending") == "spawn" for s in servers.values()):
            out.add(owner)
    return out


try:  # The classes need the gateway server; the helpers above are tested without it.
    import aiohttp
    from dask_gateway_server.backends.base import PublicException
    from dask_gateway_server.backends.local import LocalBackend
    from traitlets import Float, Integer, Unicode
    from traitlets.config import LoggingConfigurable
except ImportError:  # pragma: no cover - on the gateway host they are installed
    LocalBackend = None


if LocalBackend is not None:

    class JovialPolicy(LoggingConfigurable):
        """What Jovial adds to any Dask Gateway backend built on ``DBBackendBase``: the
        per-user cluster limit and clusters that stop with their owner's server (see the
        module's docstring). Mixed in before the backend class."""

        max_clusters_per_user = Integer(
            0,
            help="Active clusters one user may run at once (0: no limit).",
            config=True,
        )

        server_check_period = Float(
            30.0,
            help="Seconds between checks that each cluster's owner still has a server "
            "(0: never check, clusters outlive the server).",
            config=True,
        )

        hub_api_url = Unicode(
            help="JupyterHub's API URL (default: $JUPYTERHUB_API_URL).", config=True
        )

        hub_api_token = Unicode(
            help="The gateway's service token (default: $JUPYTERHUB_API_TOKEN).", config=True
        )

        async def start_cluster(self, user, cluster_options):
            running = [c.name for c in self.db.list_clusters(username=user.name)]
            refusal = cluster_limit_message(user.name, running, self.max_clusters_per_user)
            if refusal:
                self.log.info("Refused a new cluster for %s: %s", user.name, refusal)
                raise PublicException(refusal)
            return await super().start_cluster(user, cluster_options)

        async def do_setup(self):
            await super().do_setup()
            if self.server_check_period > 0:
                if not (self.hub_api_url or os.environ.get("JUPYTERHUB_API_URL")):
                    raise ValueError(
                        f"{type(self).__name__}.hub_api_url is not set (nor "
                        "JUPYTERHUB_API_URL): set it, or server_check_period = 0 to let "
                        "clusters outlive servers"
                    )
                self.task_pool.spawn(self._server_check_loop())

        async def _hub_user(self, session, name):
            url = (self.hub_api_url or os.environ["JUPYTERHUB_API_URL"]).rstrip("/")
            token = self.hub_api_token or os.environ.get("JUPYTERHUB_API_TOKEN", "")
            async with session.get(
                f"{url}/users/{quote(name)}", headers={"Authorization": f"token {token}"}
            ) as resp:
                if resp.status == 404:
                    return None
                resp.raise_for_status()
                return await resp.json()

        async def _server_check_loop(self):
            timeout = aiohttp.ClientTimeout(total=10)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                while True:
                    await asyncio.sleep(self.server_check_period)
                    try:
                        await self._stop_clusters_without_server(session)
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # keep checking; say why this round failed
                        self.log.warning("Checking the owners' servers failed: %s", exc)

        async def _stop_clusters_without_server(self, session):
            active = list(self.db.active_clusters())
            users = {}
            for owner in {c.username for c in active}:
                try:
                    users[owner] = await self._hub_user(session, owner)
                except Exception as exc:
                    self.log.warning("Cannot ask JupyterHub about %s: %s", owner, exc)
            for owner in sorted(owners_without_server((c.username for c in active), users)):
                for cluster in active:
                    if cluster.username == owner:
                        self.log.info(
                            "Stopping cluster %s: its owner %s has no server running",
                            cluster.name,
                            owner,
                        )
                        await self.stop_cluster(cluster.name)

    class JovialLocalBackend(JovialPolicy, LocalBackend):
        """LocalBackend with directory groups, a per-user cluster limit and clusters that
        stop with the user's server (see the module's docstring)."""

        def setup_working_directory(self, cluster):
            if not self.clusters_directory:
                raise ValueError(
                    "JovialLocalBackend.clusters_directory is not set: give it a root-owned "
                    "directory on local disk (mode 0711)"
                )
            uid, gid, _ = supplementary_groups(cluster.username)
            workdir, _, _ = prepare_workdir(
                self.clusters_directory, cluster.name, cluster.tls_cert, cluster.tls_key, uid, gid
            )
            return workdir

        def get_env(self, cluster):
            env = super().get_env(cluster)
            env["HOME"] = pwd.getpwnam(cluster.username).pw_dir
            return env

        def make_preexec_fn(self, cluster):  # pragma: no cover - runs in the forked child
            uid, gid, groups = supplementary_groups(cluster.username)
            workdir = cluster.state["workdir"]

            def preexec():
                os.setgid(gid)
                os.setgroups(groups)
                os.setuid(uid)
                os.chdir(workdir)

            return preexec
