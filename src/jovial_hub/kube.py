"""KubeSpawner configuration for the production (kubernetes) backend.

:func:`kubespawner_config` takes the hub's settings (:class:`KubeSettings`) and returns the
KubeSpawner traits to set (``{trait: value}``; the hub's config file assigns each one with
:func:`jovial_hub.config.apply`). Every value is a complete assignment: nothing appends to or
mutates a configured list or dict, so the result does not depend on what ran before.

Per-user values that only the directory knows are set at spawn time by :class:`SpawnHooks`:

- ``pre_spawn_hook``: looks the user up in LDAP (uid, gid, supplementary gids, home), sets
  uid/gid/supplemental_gids, mounts the user's Lustre home from the shared home PVC with
  ``subPath`` = the user's directory (Pod Security "restricted" forbids hostPath) and the
  group directories of the user's LDAP groups from the groups PVC (each its own ``subPath``,
  at the same path as on every node; other groups' directories are not in the pod), sets HOME
  and the working directory, the profile's resources and the labels, and records the start
  in the accounting ledger;
- before the pod is made, the namespace's ResourceQuota is read: a server that would not fit
  is refused with a message the user reads (the size asked for, what is in use and the
  limit), instead of the API's 403 surfacing as "500: error";
- ``modify_pod_hook``: refuses to create a pod that breaks Pod Security "restricted" (the
  namespace enforces it anyway; this gives the user and the log a clear reason) or that would
  run as root;
- ``post_stop_hook``: records the stop.

fsGroup is deliberately never set: kubelet would recursively change the group of every file
in the user's Lustre home on each start.
"""

from __future__ import annotations

import asyncio
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tornado.web import HTTPError

from .accounting import Ledger
from .identity import Identity, IdentityError
from .podsecurity import check_pod_spec

__all__ = [
    "GROUPS_VOLUME",
    "HOME_VOLUME",
    "KubeSettings",
    "PodSecurityRefused",
    "Profile",
    "QuotaExceeded",
    "SpawnHooks",
    "hub_problems",
    "kubespawner_config",
    "parse_quantity",
    "quota_problems",
    "restricted_container_security_context",
    "restricted_pod_security_context",
]

HOME_VOLUME = "home"
GROUPS_VOLUME = "groups"
TMP_VOLUME = "tmp"
# A group directory's name is the LDAP group's (POSIX) name: one path component, never '..'.
_GROUP_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
LABEL_PREFIX = "jovial.io/"

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTORS = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_SLUG = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def parse_quantity(value: str | int | float) -> Decimal:
    """A Kubernetes quantity ("500m", "2", "4Gi", "1.5G") as a Decimal (cores or bytes)."""
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 4Gi)")
    try:
        return Decimal(match.group(1)) * _FACTORS[match.group(2)]
    except InvalidOperation:  # pragma: no cover - the regex only lets numbers through
        raise ValueError(f"{value!r} is not a number") from None


@dataclass(frozen=True)
class Profile:
    """One server size users choose from. CPU in cores (quantity), memory as a quantity."""

    slug: str
    display_name: str
    cpu_request: str
    cpu_limit: str
    mem_request: str
    mem_limit: str
    description: str = ""
    default: bool = False

    def __post_init__(self) -> None:
        where = f"profile {self.slug!r}"
        if not _SLUG.match(self.slug):
            raise ValueError(f"{where}: slug must be lowercase letters, digits and '-'")
        for low, high in (("cpu_request", "cpu_limit"), ("mem_request", "mem_limit")):
            lo = parse_quantity(getattr(self, low))
            hi = parse_quantity(getattr(self, high))
            if lo <= 0 or lo > hi:
                raise ValueError(
                    f"{where}: {low} {getattr(self, low)} must be > 0 and <= {high} "
                    f"{getattr(self, high)}"
                )

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> Profile:
        """From the role's profile shape: ``{name, display_name?, description?, default?,
        cpu: {request, limit}, memory: {request, limit}}``."""
        try:
            return cls(
                slug=str(item["name"]),
                display_name=str(item.get("display_name", item["name"])),
                description=str(item.get("description", "")),
                default=bool(item.get("default", False)),
                cpu_request=str(item["cpu"]["request"]),
                cpu_limit=str(item["cpu"]["limit"]),
                mem_request=str(item["memory"]["request"]),
                mem_limit=str(item["memory"]["limit"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"profile {item!r}: missing {exc}; a profile needs name, cpu.request, "
                "cpu.limit, memory.request and memory.limit"
            ) from None

    def kubespawner_override(self) -> dict[str, Any]:
        """The KubeSpawner traits this size sets (scalars only: KubeSpawner merges dict
        overrides into the configured value, which we never want)."""
        return {
            "cpu_guarantee": float(parse_quantity(self.cpu_request)),
            "cpu_limit": float(parse_quantity(self.cpu_limit)),
            "mem_guarantee": int(parse_quantity(self.mem_request)),
            "mem_limit": int(parse_quantity(self.mem_limit)),
        }

    def resources(self) -> dict[str, dict[str, str]]:
        """What is requested, as the pod will say it (for accounting)."""
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.mem_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.mem_limit},
        }


@dataclass(frozen=True)
class KubeSettings:
    """What one hub needs to configure KubeSpawner.

    ``home_claim`` is the PVC (in ``namespace``) bound to the Lustre home PV; the user's
    directory inside it is ``home_subpath`` and it is mounted at ``home_mount``; both are
    formatted with the user's identity: ``{name}``, ``{uid}``, ``{home}`` (the LDAP
    homeDirectory).

    ``group_dirs`` are the groups that have a directory on the shared filesystem (the
    campaigns' directories, ``<mount>/groups/<group>``, made by the storage layer's quotas);
    ``group_claim`` is the PVC bound to their parent directory, mounted at ``group_root``.
    A user's pod gets the directories of the user's LDAP groups, each at
    ``<group_root>/<group>``.
    """

    hub: str
    namespace: str
    image: str
    profiles: tuple[Profile, ...]
    home_claim: str
    home_subpath: str = "{name}"
    home_mount: str = "{home}"
    image_pull_policy: str = "IfNotPresent"
    start_timeout: int = 300
    environment: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    group_claim: str = ""
    group_root: str = ""
    group_dirs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_dirs", tuple(self.group_dirs))
        bad = [g for g in self.group_dirs if not isinstance(g, str) or not _GROUP_NAME.match(g)]
        if bad:
            raise ValueError(
                f"hub {self.hub!r}: group_dirs {bad} are not POSIX group names (one path "
                "component each)"
            )
        if self.group_dirs and not (
            self.group_claim
            and self.group_root.startswith("/")
            and posixpath.normpath(self.group_root) == self.group_root
        ):
            raise ValueError(
                f"hub {self.hub!r}: group_dirs needs group_claim (the groups PVC) and group_root "
                f"(an absolute, normalised path), got {self.group_claim!r} and {self.group_root!r}"
            )
        if not self.profiles:
            raise ValueError(f"hub {self.hub!r}: profiles is empty; list at least one size")
        slugs = [p.slug for p in self.profiles]
        duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicates:
            raise ValueError(f"hub {self.hub!r}: duplicate profile names {duplicates}")
        if sum(p.default for p in self.profiles) > 1:
            raise ValueError(f"hub {self.hub!r}: more than one profile has default: true")
        if self.image_pull_policy not in ("Always", "IfNotPresent", "Never"):
            raise ValueError(
                f"hub {self.hub!r}: image_pull_policy {self.image_pull_policy!r} must be "
                "Always, IfNotPresent or Never"
            )

    @classmethod
    def from_dict(cls, settings: Mapping[str, Any]) -> KubeSettings:
        values = dict(settings)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"kubespawner settings: unknown keys {unknown}; known: {sorted(known)}"
            )
        values["profiles"] = tuple(
            p if isinstance(p, Profile) else Profile.from_dict(p)
            for p in values.get("profiles", ())
        )
        return cls(**values)

    def profile(self, slug: str | None) -> Profile:
        """The profile a user asked for (the default one when they did not choose)."""
        if not slug:
            return next((p for p in self.profiles if p.default), self.profiles[0])
        for profile in self.profiles:
            if profile.slug == slug:
                return profile
        raise ValueError(
            f"no such profile {slug!r}; choose one of {', '.join(p.slug for p in self.profiles)}"
        )


def restricted_container_security_context() -> dict[str, Any]:
    """The notebook container's securityContext: Pod Security "restricted" compliant, and
    nothing written outside the user's home and a private /tmp (read-only root filesystem)."""
    return {
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_pod_security_context() -> dict[str, Any]:
    """The pod's securityContext (uid/gid/supplementalGroups come from the user's identity)."""
    return {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}


class QuotaExceeded(HTTPError):
    """A server would not fit in the hub's ResourceQuota. The hub's API answers 403 with the
    message (``log_message``); the spawn page and progress events show it
    (``jupyterhub_message``)."""

    def __init__(self, message: str) -> None:
        super().__init__(403, message.replace("%", "%%"))
        self.jupyterhub_message = message

    def __str__(self) -> str:
        return self.jupyterhub_message


def quota_exceeded(hub: str, problems: Sequence[str]) -> QuotaExceeded:
    """The refusal a user reads when the hub's namespace has no room for their server, with
    the numbers (``problems``) and what to do."""
    return QuotaExceeded(
        f"The {hub} hub has no room for your server now ("
        + "; ".join(problems)
        + "). Try again when others have stopped theirs, choose a smaller size, or ask "
        "the platform team for a larger quota."
    )


def quota_problems(hard: Mapping[str, Any], used: Mapping[str, Any], profile: Profile) -> list[str]:
    """Why one more server of ``profile`` does not fit the quota (``hard``/``used`` as a
    ResourceQuota's status gives them); empty when it fits. Each line names the resource,
    what the server asks, what is in use and the limit."""
    asks = {
        "pods": Decimal(1),
        "requests.cpu": parse_quantity(profile.cpu_request),
        "cpu": parse_quantity(profile.cpu_request),
        "limits.cpu": parse_quantity(profile.cpu_limit),
        "requests.memory": parse_quantity(profile.mem_request),
        "memory": parse_quantity(profile.mem_request),
        "limits.memory": parse_quantity(profile.mem_limit),
    }
    problems = []
    for key, amount in asks.items():
        if key not in hard:
            continue
        limit = parse_quantity(hard[key])
        in_use = parse_quantity(used.get(key, "0"))
        if in_use + amount > limit:
            problems.append(
                f"{key}: a {profile.display_name} server asks for {_show(key, amount)}, "
                f"{_show(key, in_use)} of the hub's {_show(key, limit)} is in use"
            )
    return problems


def _show(key: str, value: Decimal) -> str:
    if key.endswith("memory"):
        return f"{value / 2**20:.0f}Mi"
    if key == "pods":
        return f"{value:.0f} server(s) and hub pods"
    return f"{value.normalize():f} CPU"


class PodSecurityRefused(RuntimeError):
    """The pod KubeSpawner built breaks Pod Security "restricted" or would run as root."""


def _format(pattern: str, identity: Identity) -> str:
    return pattern.format(name=identity.name, uid=identity.uid, home=identity.home)


def home_paths(settings: KubeSettings, identity: Identity) -> tuple[str, str]:
    """(subPath inside the home PVC, mount path in the container) for this user. The subPath
    must stay inside the volume: relative, normalised, no '..'."""
    sub = _format(settings.home_subpath, identity)
    mount = _format(settings.home_mount, identity)
    if not sub or sub.startswith("/") or posixpath.normpath(sub) != sub or ".." in sub.split("/"):
        raise IdentityError(
            f"user {identity.name!r}: home subPath {sub!r} (from {settings.home_subpath!r}) "
            "must be a relative path inside the home volume"
        )
    if not mount.startswith("/") or posixpath.normpath(mount) != mount:
        raise IdentityError(
            f"user {identity.name!r}: home mount path {mount!r} (from {settings.home_mount!r}) "
            "must be an absolute, normalised path"
        )
    return sub, mount


class SpawnHooks:
    """The spawner hooks of one hub. ``lookup`` maps a user name to their :class:`Identity`
    (``functools.partial(jovial_hub.identity.lookup_identity, ldap_settings)`` in the hub;
    it blocks, so it runs in a thread); ``ledger`` records starts and stops (optional)."""

    def __init__(
        self,
        settings: KubeSettings,
        lookup: Callable[[str], Identity],
        ledger: Ledger | None = None,
    ) -> None:
        self.settings = settings
        self.lookup = lookup
        self.ledger = ledger

    def spawner_traits(self, identity: Identity, profile: Profile) -> dict[str, Any]:
        """The per-user traits for this identity and size (pure; what pre_spawn sets)."""
        sub, mount = home_paths(self.settings, identity)
        groups = [g for g in identity.group_names if g in self.settings.group_dirs]
        group_volumes = (
            [
                {
                    "name": GROUPS_VOLUME,
                    "persistentVolumeClaim": {"claimName": self.settings.group_claim},
                }
            ]
            if groups
            else []
        )
        group_mounts = [
            {
                "name": GROUPS_VOLUME,
                "mountPath": f"{self.settings.group_root}/{group}",
                "subPath": group,
            }
            for group in groups
        ]
        return {
            "uid": identity.uid,
            "gid": identity.gid,
            "supplemental_gids": list(identity.groups),
            "fs_gid": None,
            "volumes": [
                {
                    "name": HOME_VOLUME,
                    "persistentVolumeClaim": {"claimName": self.settings.home_claim},
                },
                *group_volumes,
                # The root filesystem is read-only: /tmp is the pod's own (node disk, counted
                # in the pod's ephemeral storage).
                {"name": TMP_VOLUME, "emptyDir": {}},
            ],
            "volume_mounts": [
                {"name": HOME_VOLUME, "mountPath": mount, "subPath": sub},
                *group_mounts,
                {"name": TMP_VOLUME, "mountPath": "/tmp"},
            ],
            "working_dir": mount,
            "environment": {
                **self.settings.environment,
                "HOME": mount,
                "USER": identity.name,
            },
            "extra_labels": {
                **self.settings.labels,
                f"{LABEL_PREFIX}hub": self.settings.hub,
                f"{LABEL_PREFIX}profile": profile.slug,
                f"{LABEL_PREFIX}uid": str(identity.uid),
            },
            **profile.kubespawner_override(),
        }

    async def pre_spawn(self, spawner: Any) -> None:
        """Spawner.pre_spawn_hook: resolve the identity in LDAP and set the per-user traits."""
        name = spawner.user.name
        profile = self.settings.profile((spawner.user_options or {}).get("profile"))
        loop = asyncio.get_running_loop()
        identity = await loop.run_in_executor(None, self.lookup, name)
        if identity.name != name:
            raise IdentityError(f"LDAP lookup for {name!r} returned {identity.name!r}")
        await self.check_quota(spawner, profile)
        for trait, value in self.spawner_traits(identity, profile).items():
            setattr(spawner, trait, value)
        if self.ledger is not None:
            await loop.run_in_executor(
                None,
                lambda: self.ledger.start(  # type: ignore[union-attr]
                    user=name,
                    server=spawner.name or "",
                    groups=identity.group_names,
                    profile=profile.slug,
                    resources=profile.resources(),
                ),
            )

    async def check_quota(self, spawner: Any, profile: Profile) -> None:
        """Refuse (QuotaExceeded) a server that the namespace's ResourceQuota cannot take
        now, with the numbers; the hub's Role may read resourcequotas."""
        quotas = await spawner.api.list_namespaced_resource_quota(self.settings.namespace)
        problems: list[str] = []
        for quota in quotas.items:
            status = quota.status
            if status is None or not status.hard:
                continue
            problems.extend(quota_problems(status.hard, status.used or {}, profile))
        if problems:
            raise quota_exceeded(self.settings.hub, problems)

    def check_pod(self, spawner: Any, pod: Any) -> Any:
        """Spawner.modify_pod_hook: return the pod unchanged, or raise PodSecurityRefused."""
        manifest = _serialize(spawner, pod)
        spec = manifest.get("spec") or {}
        problems = [str(v) for v in check_pod_spec(spec, "spec", _annotations(manifest))]
        uids = [
            (c.get("securityContext") or {}).get("runAsUser") for c in spec.get("containers") or []
        ]
        if (
            any(u is None for u in uids)
            and (spec.get("securityContext") or {}).get("runAsUser") is None
        ):
            problems.append("spec.containers[*].securityContext.runAsUser: not set (no LDAP uid)")
        if problems:
            raise PodSecurityRefused(
                f"refusing to start {spawner.user.name!r}'s server: the pod breaks Pod Security "
                f"'restricted': {'; '.join(problems)}"
            )
        return pod

    async def post_stop(self, spawner: Any) -> None:
        """Spawner.post_stop_hook: record the stop (in a worker thread: SQLite blocks). A
        server whose pod was never created (refused by the namespace's quota admission:
        ``pod_created`` of :class:`jovial_hub.spawner.JovialKubeSpawner` is False) was granted
        nothing: its start is discarded instead."""
        if self.ledger is not None:
            ledger, name, server = self.ledger, spawner.user.name, spawner.name or ""
            end = ledger.discard if getattr(spawner, "pod_created", True) is False else ledger.stop
            await asyncio.to_thread(end, user=name, server=server)


def _serialize(spawner: Any, pod: Any) -> dict[str, Any]:
    if isinstance(pod, Mapping):
        return dict(pod)
    return dict(spawner.api.api_client.sanitize_for_serialization(pod))


def _annotations(manifest: Mapping[str, Any]) -> Mapping[str, str]:
    return (manifest.get("metadata") or {}).get("annotations") or {}


def profile_list(profiles: Sequence[Profile]) -> list[dict[str, Any]]:
    """KubeSpawner.profile_list: one entry per size (the spawn form's choices)."""
    default = next((p.slug for p in profiles if p.default), profiles[0].slug)
    return [
        {
            "slug": p.slug,
            "display_name": p.display_name,
            "description": p.description
            or f"{p.cpu_request}-{p.cpu_limit} CPU, {p.mem_request}-{p.mem_limit} memory",
            "default": p.slug == default,
            "kubespawner_override": p.kubespawner_override(),
        }
        for p in profiles
    ]


def kubespawner_config(settings: KubeSettings, hooks: SpawnHooks) -> dict[str, Any]:
    """The KubeSpawner traits for one hub, ``{trait name: value}``."""
    return {
        "namespace": settings.namespace,
        "image": settings.image,
        "image_pull_policy": settings.image_pull_policy,
        "start_timeout": settings.start_timeout,
        "profile_list": profile_list(settings.profiles),
        # Identity and home are per user: set by the pre-spawn hook from LDAP.
        "uid": None,
        "gid": None,
        "fs_gid": None,
        "supplemental_gids": [],
        "privileged": False,
        "allow_privilege_escalation": False,
        "container_security_context": restricted_container_security_context(),
        "pod_security_context": restricted_pod_security_context(),
        # User pods get no Kubernetes API credentials and no per-user PVC.
        "automount_service_account_token": False,
        "service_account": None,
        "storage_pvc_ensure": False,
        "delete_pvc": False,
        "extra_labels": {**settings.labels, f"{LABEL_PREFIX}hub": settings.hub},
        "pre_spawn_hook": hooks.pre_spawn,
        "modify_pod_hook": hooks.check_pod,
        "post_stop_hook": hooks.post_stop,
    }


def hub_problems(hub: Mapping[str, Any]) -> list[str]:
    """What is wrong with one ``jupyterhub_hubs`` entry's sizes (empty list: consistent).

    The quota's cpu and memory are what the namespace's pods may reserve together (requests);
    its optional ``limits`` ({cpu, memory}) what they may burst to together, by default the
    same figures, never below them. Each profile must be valid, its limits within the
    LimitRange maximum and the quota's limits, its requests within the quota: one server of it
    must fit next to the hub and proxy (which are not counted here: keep headroom in the
    quota). LimitRange defaults must not exceed its maximum.
    """
    name = hub.get("name", "?")
    problems: list[str] = []
    try:
        quota = {k: parse_quantity(hub["quota"][k]) for k in ("cpu", "memory")}
        burst = hub["quota"].get("limits", {})
        if not isinstance(burst, Mapping) or set(burst) - {"cpu", "memory"}:
            return [
                f"hub {name}: quota.limits is {burst!r}; use a mapping of cpu and memory (what "
                "the hub's pods may burst to together, e.g. limits: {cpu: '12', memory: 12Gi}; "
                "left out, the quota's cpu and memory)"
            ]
        ceiling = {k: burst.get(k, hub["quota"][k]) for k in ("cpu", "memory")}
        ceiling_q = {k: parse_quantity(v) for k, v in ceiling.items()}
        maximum = {k: parse_quantity(hub["limitrange"]["max"][k]) for k in ("cpu", "memory")}
        default = {k: parse_quantity(hub["limitrange"]["default"][k]) for k in ("cpu", "memory")}
        if int(hub["quota"]["pods"]) < 1:
            problems.append(f"hub {name}: quota.pods is {hub['quota']['pods']}; it must be >= 1")
    except (KeyError, TypeError, ValueError) as exc:
        return [f"hub {name}: quota {{cpu, memory, pods}} and limitrange.max/default: {exc}"]
    for key in ("cpu", "memory"):
        if ceiling_q[key] < quota[key]:
            problems.append(
                f"hub {name}: quota.limits.{key} {ceiling[key]} is below quota.{key} "
                f"{hub['quota'][key]}; a pod's limit is at least its request: raise it or "
                f"leave it out (it defaults to quota.{key})"
            )
        if default[key] > maximum[key]:
            problems.append(
                f"hub {name}: limitrange.default.{key} {hub['limitrange']['default'][key]} "
                f"exceeds limitrange.max.{key} {hub['limitrange']['max'][key]}"
            )
    for item in hub.get("profiles") or []:
        try:
            profile = item if isinstance(item, Profile) else Profile.from_dict(item)
        except ValueError as exc:
            problems.append(f"hub {name}: {exc}")
            continue
        sizes = {
            "cpu": (profile.cpu_request, profile.cpu_limit),
            "memory": (profile.mem_request, profile.mem_limit),
        }
        for key, (request, limit) in sizes.items():
            if parse_quantity(limit) > maximum[key]:
                problems.append(
                    f"hub {name}: profile {profile.slug} {key} limit {limit} exceeds "
                    f"limitrange.max.{key} {hub['limitrange']['max'][key]}"
                )
            if parse_quantity(limit) > ceiling_q[key]:
                problems.append(
                    f"hub {name}: profile {profile.slug} {key} limit {limit} exceeds the "
                    f"namespace quota {ceiling[key]}"
                )
            if parse_quantity(request) > quota[key]:
                problems.append(
                    f"hub {name}: profile {profile.slug} {key} request {request} exceeds the "
                    f"namespace quota {hub['quota'][key]}"
                )
    if not hub.get("profiles"):
        problems.append(f"hub {name}: profiles is empty; list at least one size")
    problems.extend(cull_problems(hub))
    return problems


CULL_KEYS: tuple[str, ...] = ("timeout", "every", "max_age")


def cull_problems(hub: Mapping[str, Any]) -> list[str]:
    """A hub's own idle-culler setting (``cull``, optional: the site's jupyterhub_cull_*
    otherwise): a mapping of timeout and every (seconds, >= 1) and max_age (seconds, 0 = none),
    checked at least as often as the timeout."""
    name = hub.get("name", "?")
    cull = hub.get("cull")
    if cull is None:
        return []
    example = "e.g. cull: {timeout: 1800, every: 300}"
    if not isinstance(cull, Mapping) or set(cull) - set(CULL_KEYS):
        return [
            f"hub {name}: cull is {cull!r}; use a mapping of {', '.join(CULL_KEYS)} "
            f"(seconds; {example})"
        ]
    problems: list[str] = []
    for key, value in cull.items():
        smallest = 0 if key == "max_age" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
            problems.append(
                f"hub {name}: cull.{key} is {value!r}; use whole seconds >= {smallest} ({example})"
            )
    timeout, every = cull.get("timeout"), cull.get("every")
    if not problems and timeout is not None and every is not None and every > timeout:
        problems.append(
            f"hub {name}: cull.every {every} is longer than cull.timeout {timeout}; servers "
            "would sit idle up to twice the timeout: check at most every timeout seconds"
        )
    return problems
