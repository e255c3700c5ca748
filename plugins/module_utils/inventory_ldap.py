"""The LDAP layer's checks: the provider pair, the directory's entries and TLS (docs/inventory.md,
"LDAP"; tests/unit/plugins/module_utils/test_inventory_model_ldap.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from . import inventory_core as core
from .inventory_core import InventoryModel

# LDAP layer (docs/inventory.md, "LDAP")

LDAP_SECRETS: tuple[str, ...] = (
    "vault_jovial_ca_passphrase",
    "vault_ldap_reader_password",
    "vault_ldap_replicator_password",
)
# The service accounts' passwords: 12 characters or more (the ldap_server role's floor).
LDAP_SERVICE_SECRETS: tuple[str, ...] = (
    "vault_ldap_reader_password",
    "vault_ldap_replicator_password",
)
_LDAP_NAME = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
_BASE_DN = re.compile(r"^(dc|o|ou)=[^,]+(,(dc|o|ou)=[^,]+)*$")


def check_ldap_providers(model: InventoryModel) -> list[str]:
    """Exactly two hosts in ldap_server (a replicated provider pair) when LDAP is configured."""
    if not core._ldap_configured(model):
        return []
    members = core._group(model, "ldap_server")
    problems = []
    if len(members) != 2:
        listed = f" ({core.join_and(members)})" if members else ""
        problems.append(
            f"group ldap_server has {core._hosts_word(len(members))}{listed}; the LDAP layer needs "
            "exactly two providers (a replicated pair): put two hosts in ldap_server in hosts.yml"
        )
    if not members:
        return problems
    providers = model.site.get("ldap_providers")
    if (
        "ldap_providers" not in model.unresolved
        and providers is not None
        and (not core._is_list(providers) or sorted(map(str, providers)) != sorted(members))
    ):
        problems.append(
            f"ldap_providers {core.show(providers)} is not the hosts of group ldap_server "
            f"({core.join_and(members)}); playbooks/ldap.yml runs the providers on that group: "
            "remove ldap_providers (the group is its default) or list exactly those hosts"
        )
    writer = model.site.get("ldap_write_provider")
    if (
        "ldap_write_provider" not in model.unresolved
        and writer is not None
        and writer not in members
    ):
        problems.append(
            f"ldap_write_provider {core.show(writer)} is not a host of group ldap_server "
            f"({core.join_and(members)}); set it to one of them (directory writes go there) or "
            "remove it (the first provider is the default)"
        )
    return problems


def _id_bounds(model: InventoryModel, variable: str) -> tuple[int, int] | None:
    value = model.site.get(variable)
    if not isinstance(value, Mapping):
        return None
    low, high = value.get("min"), value.get("max")
    if core._is_int(low) and core._is_int(high) and low < high:
        return low, high
    return None


def _ldap_entries(
    model: InventoryModel, variable: str, problems: list[str]
) -> list[tuple[str, Mapping]]:
    """(label, entry) of each well-formed mapping of ldap_users / ldap_groups."""
    value = model.site.get(variable)
    if variable in model.unresolved or value is None:
        return []
    if not core._is_list(value):
        problems.append(f"{variable}: expected a list of mappings, {core._got(value)}")
        return []
    found = []
    for position, item in enumerate(value):
        if not isinstance(item, Mapping):
            problems.append(f"{variable}[{position}]: expected a mapping, {core._got(item)}")
            continue
        name = item.get("name")
        label = (
            f"{variable}[{name}]" if isinstance(name, str) and name else f"{variable}[{position}]"
        )
        if not isinstance(name, str) or not _LDAP_NAME.match(name):
            problems.append(
                f"{label}: name {core.show(name)} is not a POSIX name; use up to 32 lowercase "
                "letters, digits, '_', '.' and '-', starting with a letter or '_'"
            )
        state = item.get("state", "present")
        if state not in ("present", "absent"):
            problems.append(
                f"{label}: state {core.show(state)} is not present or absent; write state: absent "
                "to remove the entry from the directory, or leave state out"
            )
        found.append((label, item))
    return found


def _check_ldap_ids(
    entries: list[tuple[str, Mapping]], key: str, variable: str, bounds: tuple[int, int] | None
) -> list[str]:
    problems = []
    seen: list[tuple[int, str]] = []
    for label, item in entries:
        value = item.get(key)
        if not core._is_int(value):
            problems.append(
                f"{label}: {key} {core.show(value)} is not an integer; write a number without "
                "quotes"
            )
            continue
        if bounds and not bounds[0] <= value <= bounds[1]:
            problems.append(
                f"{label}: {key} {value} is outside {variable} ({bounds[0]}-{bounds[1]}); "
                f"pick a free {key} inside it"
            )
        seen.append((value, label))
    for value, labels in core._duplicates(seen).items():
        problems.append(
            f"{key} {value} is used by {core.join_and(labels)}; give each its own {key}"
        )
    return problems


def check_ldap_directory(model: InventoryModel) -> list[str]:
    """ldap_groups / ldap_users: POSIX names, unique ids inside the ranges, groups that exist."""
    problems: list[str] = []
    groups = _ldap_entries(model, "ldap_groups", problems)
    users = _ldap_entries(model, "ldap_users", problems)
    for variable, entries in (("ldap_groups", groups), ("ldap_users", users)):
        names = [
            (item.get("name"), label)
            for label, item in entries
            if isinstance(item.get("name"), str)
        ]
        for name, labels in core._duplicates(names).items():
            problems.append(
                f"{variable}: '{name}' is defined {len(labels)} times; define it once "
                "(state: absent removes it)"
            )
    problems += _check_ldap_ids(
        groups, "gid", "jovial_gid_range", _id_bounds(model, "jovial_gid_range")
    )
    problems += _check_ldap_ids(
        users, "uid", "jovial_uid_range", _id_bounds(model, "jovial_uid_range")
    )

    present = sorted(
        item["name"]
        for _group, item in groups
        if isinstance(item.get("name"), str) and item.get("state", "present") == "present"
    )
    choices = ", ".join(present) or "(none)"
    for label, user in users:
        if user.get("state", "present") != "present":
            continue
        primary = user.get("group")
        if primary not in present:
            problems.append(
                f"{label}: primary group {core.show(primary)} is not a present group of "
                f"ldap_groups; set group to one of: {choices} (or add the group)"
            )
        extra = user.get("groups", [])
        if not core._is_list(extra):
            problems.append(f"{label}: groups: expected a list of group names, {core._got(extra)}")
        else:
            for name in extra:
                if name not in present:
                    problems.append(
                        f"{label}: supplementary group {core.show(name)} is not a present group of "
                        f"ldap_groups; use one of: {choices} (or add the group)"
                    )
        password = user.get("password")
        if not isinstance(password, str) or not password.strip():
            problems.append(
                f"{label}: password is not set (value not shown); set password: "
                f'"{{{{ vault_ldap_password_{user.get("name")} }}}}" and that secret in '
                "group_vars/all/vault.yml"
            )
    return problems


def check_ldap_tls(model: InventoryModel) -> list[str]:
    """Clients use ldaps:// URIs; the site CA and the LDAP secrets the providers need are set."""
    if "ldap_base_dn" not in model.site:
        return []
    problems = []
    base_dn = model.site.get("ldap_base_dn")
    if "ldap_base_dn" not in model.unresolved and not (
        isinstance(base_dn, str) and _BASE_DN.match(base_dn)
    ):
        problems.append(
            f"ldap_base_dn {core.show(base_dn)} is not a DN of dc=, o= or ou= parts; set it in "
            "group_vars/all/ldap.yml to e.g. dc=obs,dc=example,dc=org"
        )
    if "jovial_pki_dir" not in model.unresolved and not model.site.get("jovial_pki_dir"):
        problems.append(
            "jovial_pki_dir is not set; the LDAP providers' certificates are issued by the site "
            "CA kept there: set it in group_vars/all/site.yml"
        )
    uris = model.site.get("ldap_uris")
    if "ldap_uris" not in model.unresolved and uris is None:
        problems.append(
            "ldap_uris is not set; every node's SSSD and the hubs find the directory there: "
            "list the providers (or their VIP) in group_vars/all/ldap.yml, e.g. "
            "[ldaps://core1.example.org]"
        )
    elif "ldap_uris" not in model.unresolved:
        if not core._is_list(uris) or not uris:
            problems.append(
                f"ldap_uris: expected a non-empty list of ldaps:// URIs, {core._got(uris)}; list "
                "the providers (or their VIP), e.g. [ldaps://core1.example.org]"
            )
        else:
            for position, uri in enumerate(uris):
                if not isinstance(uri, str) or not re.match(r"^ldaps://[^/\s]+/?$", uri):
                    problems.append(
                        f"ldap_uris[{position}] {core.show(uri)} is not an ldaps:// URI; clients "
                        "must reach the providers over TLS: use ldaps://<provider name>"
                    )
    required = model.site.get("jovial_required_secrets")
    if "jovial_required_secrets" not in model.unresolved and core._is_list(required):
        for name in LDAP_SECRETS:
            if name not in required:
                problems.append(
                    f"jovial_required_secrets does not list {name}; the LDAP layer needs it: "
                    "add it there and its value to group_vars/all/vault.yml"
                )
    for name in LDAP_SERVICE_SECRETS:
        secret = model.secrets.get(name)
        if isinstance(secret, str) and secret.strip() and len(secret) < 12:
            problems.append(
                f"{name} has fewer than 12 characters (value not shown); set a random string of "
                "12+ characters in group_vars/all/vault.yml"
            )
    return problems
