"""Parsers of ldapsearch output (plugins/module_utils/ldap.py), on output captured from
OpenLDAP 2.5.13 (tests/unit/fixtures/ldap/README.md)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from ansible.module_utils import ldap

FIXTURES = Path(__file__).resolve().parents[3] / "unit" / "fixtures" / "ldap"
IN_SYNC = {
    1: "20261122030220.488589Z#000000#001#000000",
    2: "20261122031800.125613Z#000000#002#000000",
}
AHEAD_1 = "20261122031806.095939Z#000000#001#000000"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_parse_csn():
    assert ldap.parse_csn("20261122030220.488589Z#000000#001#000000") == {
        "time": datetime.datetime(2026, 11, 22, 3, 2, 20, 488589, tzinfo=datetime.UTC),
        "count": 0,
        "sid": 1,
        "mod": 0,
    }
    assert ldap.parse_csn("20261122030220.4Z#00000a#01f#000002")["sid"] == 31


@pytest.mark.parametrize("bad", ["", "20261122030220Z", "not-a-csn", "2026112203022.1Z#0#1#0"])
def test_parse_csn_rejects_non_csns(bad):
    with pytest.raises(ValueError, match="not a CSN"):
        ldap.parse_csn(bad)


@pytest.mark.parametrize(
    "name",
    ["contextcsn_ldap1_in_sync.ldif", "contextcsn_ldap2_in_sync.ldif", "contextcsn_wrapped.ldif"],
)
def test_context_csns_of_real_output(name):
    expected = IN_SYNC if "in_sync" in name else {1: AHEAD_1, 2: IN_SYNC[2]}
    assert ldap.context_csns(fixture(name)) == expected


def test_anonymous_search_has_no_entries():
    assert ldap.parse_ldif(fixture("anonymous_empty.ldif")) == []
    assert ldap.context_csns(fixture("anonymous_empty.ldif")) == {}


def test_parse_ldif_full_output_with_comments_and_trailer():
    entries = ldap.parse_ldif(fixture("groups_full.ldif"))
    assert [e["dn"] for e in entries][:3] == [
        "ou=groups,dc=ldap,dc=jovial,dc=test",
        "cn=campaign-deep,ou=groups,dc=ldap,dc=jovial,dc=test",
        "cn=jovial-admins,ou=groups,dc=ldap,dc=jovial,dc=test",
    ]
    admins = entries[2]
    assert ldap.attribute(admins, "memberuid") == ["ada"]
    assert ldap.attribute(admins, "objectClass") == ["top", "posixGroup"]
    assert ldap.attribute(admins, "gidNumber") == ["10000"]


def test_parse_ldif_folded_lines_and_base64():
    text = "dn: uid=ada,ou=people,dc=x\ncn: a very long\n  name\ndescription:: w6lsw6h2ZQ==\n\n"
    assert ldap.parse_ldif(text) == [
        {
            "dn": "uid=ada,ou=people,dc=x",
            "attrs": {"cn": ["a very long name"], "description": ["élève"]},
        }
    ]


def test_parse_ldif_rejects_garbage():
    with pytest.raises(ldap.LdifError, match="line without ':'"):
        ldap.parse_ldif("dn: dc=x\nnot ldif at all\n")
    with pytest.raises(ldap.LdifError, match="does not start with dn"):
        ldap.parse_ldif("cn: x\n")


def test_compare_in_sync():
    state = ldap.compare_context_csns(
        {
            "p1": ldap.context_csns(fixture("contextcsn_ldap1_in_sync.ldif")),
            "p2": ldap.context_csns(fixture("contextcsn_ldap2_in_sync.ldif")),
        }
    )
    assert state == {
        "in_sync": True,
        "newest": {"1": IN_SYNC[1], "2": IN_SYNC[2]},
        "lag_seconds": {"p1": 0.0, "p2": 0.0},
        "behind": {"p1": [], "p2": []},
    }


def test_compare_one_provider_behind():
    state = ldap.compare_context_csns(
        {
            "p1": ldap.context_csns(fixture("contextcsn_ldap1_ahead.ldif")),
            "p2": ldap.context_csns(fixture("contextcsn_ldap2_in_sync.ldif")),
        }
    )
    assert state["in_sync"] is False
    assert state["behind"] == {"p1": [], "p2": [1]}
    # 03:18:06.095939 - 03:02:20.488589
    assert state["lag_seconds"] == {"p1": 0.0, "p2": pytest.approx(945.60735)}


def test_compare_missing_server_id_and_empty_provider():
    state = ldap.compare_context_csns({"p1": dict(IN_SYNC), "p2": {1: IN_SYNC[1]}, "p3": {}})
    assert state["in_sync"] is False
    assert state["behind"] == {"p1": [], "p2": [2], "p3": [1, 2]}
    assert state["lag_seconds"] == {"p1": 0.0, "p2": None, "p3": None}
    assert ldap.compare_context_csns({})["in_sync"] is False


# --- ldap_directory's plan: what makes an entry equal to the inventory -------------------

USER_CLASSES = ["top", "inetOrgPerson", "posixAccount"]
USER_ATTRS = {"cn": "Ada Lab", "uidNumber": 10001, "loginShell": "/bin/bash"}


def test_ldap_values_turn_inventory_values_into_ldap_values():
    assert ldap.ldap_values(None) == []
    assert ldap.ldap_values([]) == []
    assert ldap.ldap_values(10001) == [b"10001"]
    assert ldap.ldap_values(["b", "a", "b"]) == [b"b", b"a"]
    assert ldap.ldap_values("Ådå") == ["Ådå".encode()]
    with pytest.raises(ValueError, match="TRUE or FALSE"):
        ldap.ldap_values(True)


def test_a_missing_entry_is_added_with_its_classes_and_non_empty_attributes():
    change = ldap.entry_changes(USER_CLASSES, {**USER_ATTRS, "description": []}, None)
    assert change == {
        "action": "add",
        "attrs": [
            ("objectClass", [b"top", b"inetOrgPerson", b"posixAccount"]),
            ("cn", [b"Ada Lab"]),
            ("uidNumber", [b"10001"]),
            ("loginShell", [b"/bin/bash"]),
        ],
    }


def test_an_entry_equal_to_the_inventory_needs_nothing_whatever_the_server_case_and_order():
    current = {
        "objectClass": [b"posixAccount", b"top", b"inetOrgPerson"],
        "CN": [b"Ada Lab"],
        "uidnumber": [b"10001"],
        "loginShell": [b"/bin/bash"],
        "mail": [b"ada@example.org"],  # not managed: left alone
    }
    assert ldap.entry_changes(USER_CLASSES, USER_ATTRS, current) == {"action": "none"}
    members = {"memberUid": [b"bruno", b"ada"]}
    assert ldap.entry_changes(["posixGroup"], {"memberUid": ["ada", "bruno"]}, members) == {
        "action": "none"
    }


def test_a_hand_edited_attribute_is_put_back_and_an_emptied_one_removed():
    current = {
        "cn": [b"Ada Lab"],
        "uidNumber": [b"10001"],
        "loginShell": [b"/bin/zsh"],
        "description": [b"stale"],
    }
    change = ldap.entry_changes(USER_CLASSES, {**USER_ATTRS, "description": []}, current)
    assert change == {
        "action": "modify",
        "mods": [("replace", "loginShell", [b"/bin/bash"]), ("delete", "description", [])],
    }


def test_an_attribute_already_absent_and_wanted_empty_needs_nothing():
    current = {"gidNumber": [b"10100"]}
    assert ldap.entry_changes(["posixGroup"], {"gidNumber": 10100, "memberUid": []}, current) == {
        "action": "none"
    }


def test_group_members_are_set_exactly():
    current = {"memberUid": [b"ada", b"gone"]}
    change = ldap.entry_changes(["posixGroup"], {"memberUid": ["ada", "bruno"]}, current)
    assert change == {"action": "modify", "mods": [("replace", "memberUid", [b"ada", b"bruno"])]}


def test_the_diff_shows_what_changes_and_never_a_password():
    dn = "uid=ada,ou=people,dc=x"
    add = ldap.entry_changes(["account"], {"uid": "ada"}, None)
    add["attrs"].append(("userPassword", [b"{CRYPT}*"]))
    diff = ldap.changes_diff(dn, add, None)
    assert diff["before"] == ""
    assert diff["after"] == f"dn: {dn}\nobjectClass: account\nuid: ada\nuserPassword: (hidden)\n"
    current = {"loginShell": [b"/bin/zsh"]}
    mod = ldap.entry_changes(["account"], {"loginShell": "/bin/bash"}, current)
    diff = ldap.changes_diff(dn, mod, current)
    assert (diff["before"], diff["after"]) == (
        f"dn: {dn}\nloginShell: /bin/zsh\n",
        f"dn: {dn}\nloginShell: /bin/bash\n",
    )
    assert ldap.changes_diff(dn, {"action": "delete"}, None)["after"] == ""
