"""LDAP identity lookup: pure conversion of entries, and the search/failover path against
ldap3's in-memory MOCK_SYNC server (entries shaped as the ldap layer writes them:
inventories/sample/group_vars/all/ldap.yml, posixAccount under ou=people, posixGroup with
memberUid under ou=groups)."""

from __future__ import annotations

import socket

import pytest
from ldap3 import MOCK_SYNC, OFFLINE_SLAPD_2_4, Connection, Server
from ldap3.core.exceptions import LDAPBindError, LDAPSocketOpenError

from jovial_hub.identity import (
    DirectoryUnavailable,
    Identity,
    InvalidEntry,
    LdapSettings,
    UidNotAllowed,
    UserNotFound,
    groups_filter,
    identity_from_entries,
    lookup_identity,
    user_filter,
)

BASE = "dc=obs,dc=example,dc=org"
READER = f"cn=reader,ou=services,{BASE}"

# Entries as ldap3 returns them (attribute -> list of values).
JSOTO = {
    "uid": ["jsoto"],
    "uidNumber": ["10002"],
    "gidNumber": ["10100"],
    "homeDirectory": ["/lustre/home/jsoto"],
}
GROUPS = [
    {"cn": ["survey-gal"], "gidNumber": ["10100"]},
    {"cn": ["survey-var"], "gidNumber": ["10101"]},
]


def test_identity_from_entries():
    assert identity_from_entries("jsoto", [JSOTO], GROUPS) == Identity(
        name="jsoto",
        uid=10002,
        gid=10100,
        groups=(10101,),
        home="/lustre/home/jsoto",
        group_names=("survey-gal", "survey-var"),
    )


def test_supplementary_groups_are_sorted_and_exclude_system_groups():
    groups = [
        {"cn": ["zeta"], "gidNumber": ["10300"]},
        {"cn": ["wheel"], "gidNumber": ["0"]},
        {"cn": ["docker"], "gidNumber": ["998"]},
        {"cn": ["alpha"], "gidNumber": ["10200"]},
        {"cn": ["broken"]},
    ]
    identity = identity_from_entries("jsoto", [JSOTO], groups)
    assert identity.groups == (10200, 10300)
    assert identity.group_names == ("alpha", "zeta")


@pytest.mark.parametrize(
    ("entry", "error", "message"),
    [
        ({**JSOTO, "uidNumber": []}, InvalidEntry, "has no uidNumber"),
        ({k: v for k, v in JSOTO.items() if k != "gidNumber"}, InvalidEntry, "has no gidNumber"),
        ({**JSOTO, "homeDirectory": []}, InvalidEntry, "has no homeDirectory"),
        ({**JSOTO, "uidNumber": ["ten"]}, InvalidEntry, "uidNumber is 'ten', not an integer"),
        ({**JSOTO, "uidNumber": ["1", "2"]}, InvalidEntry, "2 values of uidNumber"),
        ({**JSOTO, "uidNumber": ["0"]}, UidNotAllowed, "never run as root"),
        ({**JSOTO, "gidNumber": ["0"]}, UidNotAllowed, "never run as root"),
        ({**JSOTO, "uidNumber": ["999"]}, UidNotAllowed, "uidNumber 999, below the minimum 1000"),
        ({**JSOTO, "gidNumber": ["100"]}, UidNotAllowed, "gidNumber 100, below the minimum"),
        ({**JSOTO, "homeDirectory": ["home/jsoto"]}, InvalidEntry, "must be absolute"),
    ],
)
def test_unusable_entries_are_refused(entry, error, message):
    with pytest.raises(error, match=message):
        identity_from_entries("jsoto", [entry], GROUPS)


def test_user_not_found_and_ambiguous_user():
    with pytest.raises(UserNotFound, match="user 'ghost' not found in LDAP"):
        identity_from_entries("ghost", [], [])
    with pytest.raises(InvalidEntry, match="matches 2 LDAP entries"):
        identity_from_entries("jsoto", [JSOTO, JSOTO], GROUPS)


def test_site_minimum_uid():
    with pytest.raises(UidNotAllowed, match="below the minimum 20000"):
        identity_from_entries("jsoto", [JSOTO], GROUPS, min_uid=20000)


def test_filters_escape_the_name():
    assert user_filter("jsoto") == "(&(objectClass=posixAccount)(uid=jsoto))"
    assert user_filter("a*)(uid=*") == "(&(objectClass=posixAccount)(uid=a\\2a\\29\\28uid=\\2a))"
    assert groups_filter("jsoto", 10100) == (
        "(&(objectClass=posixGroup)(|(memberUid=jsoto)(gidNumber=10100)))"
    )


def test_settings_validation():
    with pytest.raises(ValueError, match="uris is empty"):
        LdapSettings((), BASE, READER, "pw", "/ca.crt")
    with pytest.raises(ValueError, match="'https://x' is not an ldaps://"):
        LdapSettings(("https://x",), BASE, READER, "pw", "/ca.crt")
    with pytest.raises(ValueError, match="min_uid is 0"):
        LdapSettings(("ldaps://x",), BASE, READER, "pw", "/ca.crt", min_uid=0)
    with pytest.raises(ValueError, match="unknown keys \\['port'\\]"):
        LdapSettings.from_dict({"uris": ["ldaps://x"], "port": 636})
    settings = LdapSettings.from_dict(
        {
            "uris": ["ldaps://a"],
            "base_dn": BASE,
            "bind_dn": READER,
            "bind_password": "secret",
            "ca_file": "/etc/jupyterhub/ca.crt",
        }
    )
    assert settings.users_dn == f"ou=people,{BASE}"
    assert settings.groups_dn == f"ou=groups,{BASE}"
    assert "secret" not in repr(settings)


# --- lookup against ldap3's in-memory server ------------------------------------------------

SETTINGS = LdapSettings(
    uris=("ldaps://ldap01.obs.example.org", "ldaps://ldap02.obs.example.org"),
    base_dn=BASE,
    bind_dn=READER,
    bind_password="reader-pw",
    ca_file="/etc/jupyterhub/ldap-ca.crt",
)


def mock_directory(uri: str, settings: LdapSettings, password: str = "reader-pw") -> Connection:
    server = Server(uri, get_info=OFFLINE_SLAPD_2_4)
    conn = Connection(
        server, user=settings.bind_dn, password=settings.bind_password, client_strategy=MOCK_SYNC
    )
    add = conn.strategy.add_entry
    add(READER, {"objectClass": ["person"], "sn": "reader", "userPassword": password})
    add(
        f"uid=jsoto,ou=people,{BASE}",
        {
            "objectClass": ["inetOrgPerson", "posixAccount"],
            "cn": "Javier Soto",
            "sn": "Soto",
            "uid": "jsoto",
            "uidNumber": 10002,
            "gidNumber": 10100,
            "homeDirectory": "/lustre/home/jsoto",
        },
    )
    add(
        f"uid=svc,ou=people,{BASE}",
        {
            "objectClass": ["inetOrgPerson", "posixAccount"],
            "cn": "svc",
            "sn": "svc",
            "uid": "svc",
            "uidNumber": 0,
            "gidNumber": 0,
            "homeDirectory": "/root",
        },
    )
    add(
        f"cn=survey-gal,ou=groups,{BASE}",
        {"objectClass": ["posixGroup"], "cn": "survey-gal", "gidNumber": 10100},
    )
    add(
        f"cn=survey-var,ou=groups,{BASE}",
        {
            "objectClass": ["posixGroup"],
            "cn": "survey-var",
            "gidNumber": 10101,
            "memberUid": ["lvega", "jsoto"],
        },
    )
    add(
        f"cn=jovial-admins,ou=groups,{BASE}",
        {
            "objectClass": ["posixGroup"],
            "cn": "jovial-admins",
            "gidNumber": 10000,
            "memberUid": ["mperez"],
        },
    )
    if not conn.bind():
        raise LDAPBindError(f"bind as {settings.bind_dn} refused")
    return conn


def test_lookup_finds_uid_gid_groups_home():
    assert lookup_identity(SETTINGS, "jsoto", connect=mock_directory) == Identity(
        name="jsoto",
        uid=10002,
        gid=10100,
        groups=(10101,),
        home="/lustre/home/jsoto",
        group_names=("survey-gal", "survey-var"),
    )


def test_lookup_fails_over_to_the_next_uri():
    tried = []

    def first_down(uri, settings):
        tried.append(uri)
        if uri == SETTINGS.uris[0]:
            raise LDAPSocketOpenError("socket connection error while opening: [Errno 111]")
        return mock_directory(uri, settings)

    assert lookup_identity(SETTINGS, "jsoto", connect=first_down).uid == 10002
    assert tried == list(SETTINGS.uris)


def test_an_answer_from_the_first_server_is_final():
    tried = []

    def record(uri, settings):
        tried.append(uri)
        return mock_directory(uri, settings)

    with pytest.raises(UserNotFound):
        lookup_identity(SETTINGS, "ghost", connect=record)
    assert tried == [SETTINGS.uris[0]]


def test_root_in_the_directory_is_refused():
    with pytest.raises(UidNotAllowed, match="'svc' has uidNumber 0"):
        lookup_identity(SETTINGS, "svc", connect=mock_directory)


def test_no_server_answers():
    def wrong_password(uri, settings):
        return mock_directory(uri, settings, password="rotated")

    with pytest.raises(DirectoryUnavailable) as caught:
        lookup_identity(SETTINGS, "jsoto", connect=wrong_password)
    message = str(caught.value)
    assert "ldap01.obs.example.org: LDAPBindError" in message
    assert "ldap02.obs.example.org: LDAPBindError" in message
    assert "reader-pw" not in message


def test_real_tls_connect_to_closed_ports_reports_every_uri(tmp_path):
    """The default (real) connector: nothing listens on port 1, so each URI fails in turn."""
    ca = tmp_path / "ca.crt"
    ca.write_text("")
    settings = LdapSettings(
        uris=("ldaps://127.0.0.1:1", "ldap://127.0.0.1:1"),
        base_dn=BASE,
        bind_dn=READER,
        bind_password="pw",
        ca_file=str(ca),
        timeout=1,
    )
    with pytest.raises(
        DirectoryUnavailable, match=r"ldaps://127.0.0.1:1: .*; ldap://127.0.0.1:1: "
    ):
        lookup_identity(settings, "jsoto")


def test_real_connect_with_a_fractional_timeout_reaches_the_server(tmp_path):
    """A server that accepts and never answers: the real connector opens the socket, sets
    the receive timeout (ldap3 packs it as a C integer: 2.5 s once raised struct.error and
    the hub answered 500 to every spawn) and reports the silent server as unavailable."""
    ca = tmp_path / "ca.crt"
    ca.write_text("")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        settings = LdapSettings(
            uris=(f"ldap://127.0.0.1:{port}",),
            base_dn=BASE,
            bind_dn=READER,
            bind_password="pw",
            ca_file=str(ca),
            timeout=0.5,
        )
        with pytest.raises(DirectoryUnavailable, match=rf"ldap://127.0.0.1:{port}: "):
            lookup_identity(settings, "jsoto")
