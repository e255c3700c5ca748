"""The LDAP checks of the inventory model (check_ldap_providers/_directory/_tls), exact messages.

A valid LDAP model (the lab's directory) is changed one way per case; each case states every
problem it must produce, no more and no fewer.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible.module_utils import inventory_model as im

LDAP_CHECKS = (im.check_ldap_providers, im.check_ldap_directory, im.check_ldap_tls)

SITE: dict[str, Any] = {
    "jovial_pki_dir": "/etc/jovial/lab/pki",
    "jovial_uid_range": {"min": 10000, "max": 59999},
    "jovial_gid_range": {"min": 10000, "max": 59999},
    "jovial_required_secrets": [
        "vault_jovial_ca_passphrase",
        "vault_ldap_reader_password",
        "vault_ldap_replicator_password",
    ],
    "ldap_base_dn": "dc=lab,dc=jovial,dc=internal",
    "ldap_uris": ["ldaps://core1.lab.jovial.internal", "ldaps://core2.lab.jovial.internal"],
    "ldap_groups": [
        {"name": "jovial-admins", "gid": 10000},
        {"name": "campaign-deep", "gid": 10100},
        {"name": "campaign-old", "gid": 10199, "state": "absent"},
    ],
    "ldap_users": [
        {
            "name": "ada",
            "uid": 10001,
            "group": "campaign-deep",
            "groups": ["jovial-admins"],
            "password": "pw-a",
        },
        {"name": "bruno", "uid": 10002, "group": "jovial-admins", "password": "pw-b"},
        {"name": "gone", "uid": 10099, "state": "absent"},
    ],
}
GROUPS = {"all": ["core1", "core2", "core3"], "ldap_server": ["core1", "core2"]}


def model(
    site_changes: dict[str, Any] | None = None, groups: dict | None = None
) -> im.InventoryModel:
    site = copy.deepcopy(SITE)
    site.update(site_changes or {})
    return im.InventoryModel(groups=groups or GROUPS, hosts={}, site=site)


def problems(m: im.InventoryModel) -> list[str]:
    return im.validate(m, LDAP_CHECKS)


def users(*changes: tuple[int, dict]) -> list[dict]:
    out = copy.deepcopy(SITE["ldap_users"])
    for index, change in changes:
        out[index].update(change)
    return out


def test_the_valid_directory_has_no_problems():
    assert problems(model()) == []


def test_the_checks_are_registered():
    assert set(LDAP_CHECKS) <= set(im.CHECKERS)
    assert {"ldap_base_dn", "ldap_users", "ldap_groups", "ldap_uris"} <= set(im.SITE_VARIABLES)


def test_no_ldap_at_all_is_fine():
    bare = im.InventoryModel(groups={"all": ["core1"], "ldap_server": []}, hosts={}, site={})
    assert problems(bare) == []


CASES = [
    pytest.param(
        {},
        {"all": ["core1", "core2", "core3"], "ldap_server": ["core1", "core2", "core3"]},
        [
            "group ldap_server has 3 hosts (core1, core2 and core3); the LDAP layer needs exactly "
            "two providers (a replicated pair): put two hosts in ldap_server in hosts.yml"
        ],
        id="three-providers",
    ),
    pytest.param(
        {},
        {"all": ["core1"], "ldap_server": []},
        [
            "group ldap_server has 0 hosts; the LDAP layer needs exactly two providers (a "
            "replicated pair): put two hosts in ldap_server in hosts.yml"
        ],
        id="directory-without-providers",
    ),
    pytest.param(
        {"ldap_users": users((1, {"uid": 10001}))},
        None,
        ["uid 10001 is used by ldap_users[ada] and ldap_users[bruno]; give each its own uid"],
        id="duplicate-uid",
    ),
    pytest.param(
        {
            "ldap_groups": [
                {"name": "jovial-admins", "gid": 10000},
                {"name": "campaign-deep", "gid": 10000},
            ]
        },
        None,
        [
            "gid 10000 is used by ldap_groups[jovial-admins] and ldap_groups[campaign-deep]; "
            "give each its own gid"
        ],
        id="duplicate-gid",
    ),
    pytest.param(
        {"ldap_users": users((0, {"uid": 999}))},
        None,
        [
            "ldap_users[ada]: uid 999 is outside jovial_uid_range (10000-59999); "
            "pick a free uid inside it"
        ],
        id="uid-in-system-range",
    ),
    pytest.param(
        {
            "ldap_groups": [
                {"name": "jovial-admins", "gid": 65534},
                {"name": "campaign-deep", "gid": 10100},
            ]
        },
        None,
        [
            "ldap_groups[jovial-admins]: gid 65534 is outside jovial_gid_range (10000-59999); "
            "pick a free gid inside it"
        ],
        id="gid-outside-range",
    ),
    pytest.param(
        {"ldap_users": users((0, {"uid": "10001"}))},
        None,
        ["ldap_users[ada]: uid '10001' is not an integer; write a number without quotes"],
        id="quoted-uid",
    ),
    pytest.param(
        {"ldap_users": users((1, {"group": "campaign-old"}))},
        None,
        [
            "ldap_users[bruno]: primary group 'campaign-old' is not a present group of "
            "ldap_groups; set group to one of: campaign-deep, jovial-admins (or add the group)"
        ],
        id="primary-group-absent",
    ),
    pytest.param(
        {"ldap_users": users((0, {"groups": ["jovial-admin"]}))},
        None,
        [
            "ldap_users[ada]: supplementary group 'jovial-admin' is not a present group of "
            "ldap_groups; use one of: campaign-deep, jovial-admins (or add the group)"
        ],
        id="supplementary-group-typo",
    ),
    pytest.param(
        {"ldap_users": users((0, {"password": ""}))},
        None,
        [
            "ldap_users[ada]: password is not set (value not shown); set password: "
            '"{{ vault_ldap_password_ada }}" and that secret in group_vars/all/vault.yml'
        ],
        id="empty-password",
    ),
    pytest.param(
        {"ldap_users": users((2, {"state": "deleted"}))},
        None,
        [
            "ldap_users[gone]: state 'deleted' is not present or absent; write state: absent to "
            "remove the entry from the directory, or leave state out"
        ],
        id="state-typo-never-removes",
    ),
    pytest.param(
        {
            "ldap_users": [
                *SITE["ldap_users"],
                {"name": "ada", "uid": 10003, "group": "campaign-deep", "password": "x"},
            ]
        },
        None,
        ["ldap_users: 'ada' is defined 2 times; define it once (state: absent removes it)"],
        id="duplicate-user-name",
    ),
    pytest.param(
        {"ldap_users": users((1, {"name": "Bruno Lab"}))},
        None,
        [
            "ldap_users[Bruno Lab]: name 'Bruno Lab' is not a POSIX name; use up to 32 lowercase "
            "letters, digits, '_', '.' and '-', starting with a letter or '_'"
        ],
        id="bad-user-name",
    ),
    pytest.param(
        {"ldap_users": {"ada": 10001}},
        None,
        ["ldap_users: expected a list of mappings, got a mapping ({'ada': 10001})"],
        id="users-not-a-list",
    ),
    pytest.param(
        {"ldap_uris": ["ldap://core1.lab.jovial.internal", "ldaps://core2.lab.jovial.internal"]},
        None,
        [
            "ldap_uris[0] 'ldap://core1.lab.jovial.internal' is not an ldaps:// URI; clients must "
            "reach the providers over TLS: use ldaps://<provider name>"
        ],
        id="plain-ldap-uri",
    ),
    pytest.param(
        {"jovial_pki_dir": ""},
        None,
        [
            "jovial_pki_dir is not set; the LDAP providers' certificates are issued by the site CA "
            "kept there: set it in group_vars/all/site.yml"
        ],
        id="no-site-ca",
    ),
    pytest.param(
        {"jovial_required_secrets": ["vault_jovial_ca_passphrase", "vault_ldap_reader_password"]},
        None,
        [
            "jovial_required_secrets does not list vault_ldap_replicator_password; the LDAP layer "
            "needs it: add it there and its value to group_vars/all/vault.yml"
        ],
        id="replicator-secret-not-required",
    ),
    pytest.param(
        {"ldap_base_dn": "lab.jovial.internal"},
        None,
        [
            "ldap_base_dn 'lab.jovial.internal' is not a DN of dc=, o= or ou= parts; set it in "
            "group_vars/all/ldap.yml to e.g. dc=obs,dc=example,dc=org"
        ],
        id="base-dn-not-a-dn",
    ),
    pytest.param(
        {"ldap_uris": None},
        None,
        [
            "ldap_uris is not set; every node's SSSD and the hubs find the directory there: list "
            "the providers (or their VIP) in group_vars/all/ldap.yml, e.g. "
            "[ldaps://core1.example.org]"
        ],
        id="uris-not-set",
    ),
    pytest.param(
        {"ldap_providers": ["core1", "core3"], "ldap_write_provider": "core3"},
        None,
        [
            "ldap_providers ['core1', 'core3'] is not the hosts of group ldap_server (core1 and "
            "core2); playbooks/ldap.yml runs the providers on that group: remove ldap_providers "
            "(the group is its default) or list exactly those hosts",
            "ldap_write_provider 'core3' is not a host of group ldap_server (core1 and core2); "
            "set it to one of them (directory writes go there) or remove it (the first provider "
            "is the default)",
        ],
        id="providers-not-the-group",
    ),
    pytest.param(
        {"ldap_providers": ["core2", "core1"], "ldap_write_provider": "core2"},
        None,
        [],
        id="providers-the-group-in-another-order",
    ),
]


@pytest.mark.parametrize(("site_changes", "groups", "expected"), CASES)
def test_broken_directory(site_changes, groups, expected):
    assert problems(model(site_changes, groups)) == expected


def test_service_account_passwords_have_12_characters():
    m = model()
    short = im.InventoryModel(
        groups=m.groups,
        hosts={},
        site=m.site,
        secrets={
            "vault_ldap_reader_password": "s3cret",
            "vault_ldap_replicator_password": "x" * 12,
        },
    )
    assert problems(short) == [
        "vault_ldap_reader_password has fewer than 12 characters (value not shown); set a random "
        "string of 12+ characters in group_vars/all/vault.yml"
    ]


def test_passwords_are_never_shown():
    found = problems(model({"ldap_users": users((0, {"password": ["s3cret-value"]}))}))
    assert found and all("s3cret-value" not in text for text in found)
