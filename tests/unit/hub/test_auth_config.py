"""LDAP login configuration: the traits built from the role's settings, and a real
LDAPAuthenticator login flow (service-account lookup, bind as the user, group checks, admin
flag, failover) against ldap3's in-memory MOCK_SYNC server."""

from __future__ import annotations

import asyncio
import json
import threading

import ldap3
import pytest
from ldap3.core.exceptions import LDAPSocketOpenError
from traitlets.config import Config

from jovial_hub import config
from jovial_hub.auth import JovialLDAPAuthenticator

BASE = "dc=obs,dc=example,dc=org"
READER = f"cn=reader,ou=services,{BASE}"
LDAP = {
    "uris": ["ldaps://ldap01.obs.example.org", "ldaps://ldap02.obs.example.org"],
    "ca_file": "/etc/jupyterhub/ldap-ca.crt",
    "base_dn": BASE,
    "bind_dn": READER,
    "bind_password": "reader-pw",
    "allowed_groups": ["survey-gal", "survey-var"],
    "admin_groups": ["jovial-admins"],
}


def test_authenticator_traits():
    traits = config.authenticator_config(LDAP)
    assert traits["server_addresses"] == ["ldap01.obs.example.org", "ldap02.obs.example.org"]
    assert traits["server_address"] == "ldap01.obs.example.org"
    assert (traits["server_port"], traits["tls_strategy"]) == (636, "on_connect")
    assert traits["tls_kwargs"] == {"ca_certs_file": "/etc/jupyterhub/ldap-ca.crt", "validate": 2}
    assert traits["allowed_groups"] == [
        f"cn=survey-gal,ou=groups,{BASE}",
        f"cn=survey-var,ou=groups,{BASE}",
        f"cn=jovial-admins,ou=groups,{BASE}",
    ]
    assert traits["admin_groups"] == [f"cn=jovial-admins,ou=groups,{BASE}"]
    assert traits["lookup_dn"] is True
    assert traits["lookup_dn_search_user"] == READER
    assert traits["user_search_base"] == f"ou=people,{BASE}"


def test_starttls_uris_and_bind_template():
    traits = config.authenticator_config(
        {**LDAP, "uris": ["ldap://vip.obs.example.org"], "bind_dn": ""}
    )
    assert (traits["server_port"], traits["tls_strategy"]) == (389, "before_bind")
    assert traits["lookup_dn"] is False
    assert traits["bind_dn_template"] == [f"uid={{username}},ou=people,{BASE}"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uris": []}, "ldap.uris is empty"),
        ({"uris": ["ldaps://a", "ldap://b"]}, "use only ldaps://"),
        ({"uris": ["ldaps://a:636", "ldaps://b:1636"]}, "same port"),
        ({"ca_file": ""}, "ldap.ca_file is not set"),
        ({"bind_password": ""}, "bind_password is empty"),
    ],
)
def test_bad_ldap_settings(change, message):
    with pytest.raises(ValueError, match=message):
        config.authenticator_config({**LDAP, **change})


def test_apply_and_load_settings(tmp_path):
    path = tmp_path / "jovial.json"
    path.write_text(json.dumps({"ldap": LDAP}))
    c = Config()
    config.apply(
        c,
        "JovialLDAPAuthenticator",
        config.authenticator_config(config.load_settings(path)["ldap"]),
    )
    authenticator = JovialLDAPAuthenticator(config=c)
    assert authenticator.server_addresses == LDAP_HOSTS
    assert authenticator.lookup_dn_search_password == "reader-pw"
    path.write_text("[1]")
    with pytest.raises(ValueError, match="expected a JSON object"):
        config.load_settings(path)


LDAP_HOSTS = ["ldap01.obs.example.org", "ldap02.obs.example.org"]
REAL_CONNECTION = ldap3.Connection


class Directory:
    """Stands in for ldap3.Connection in ldapauthenticator: an in-memory directory per
    connection; hosts in ``down`` refuse the socket like a stopped slapd."""

    def __init__(self, down=()):
        self.down = set(down)
        self.contacted: list[str] = []

    def __call__(self, server, user=None, password=None, auto_bind=None, **kwargs):
        self.contacted.append(server.host)
        if server.host in self.down:
            raise LDAPSocketOpenError("socket connection error while opening: [Errno 111]")
        conn = REAL_CONNECTION(
            ldap3.Server(server.host, get_info=ldap3.OFFLINE_SLAPD_2_4),
            user=user,
            password=password,
            client_strategy=ldap3.MOCK_SYNC,
        )
        add = conn.strategy.add_entry
        add(READER, {"objectClass": ["person"], "sn": "reader", "userPassword": "reader-pw"})
        for name, uid, gid in (
            ("jsoto", 10002, 10100),
            ("mperez", 10001, 10000),
            ("lvega", 10003, 10101),
            ("guest", 10050, 10900),
        ):
            add(
                f"uid={name},ou=people,{BASE}",
                {
                    "objectClass": ["inetOrgPerson", "posixAccount"],
                    "cn": name,
                    "sn": name,
                    "uid": name,
                    "uidNumber": uid,
                    "gidNumber": gid,
                    "homeDirectory": f"/lustre/home/{name}",
                    "userPassword": f"{name}-pw",
                },
            )
        for group, gid, members in (
            ("survey-gal", 10100, ["jsoto"]),
            ("survey-var", 10101, ["lvega", "jsoto"]),
            ("jovial-admins", 10000, ["mperez"]),
            ("visitors", 10900, ["guest"]),
        ):
            add(
                f"cn={group},ou=groups,{BASE}",
                {
                    "objectClass": ["posixGroup"],
                    "cn": group,
                    "gidNumber": gid,
                    "memberUid": members,
                },
            )
        if not conn.bind():
            raise ldap3.core.exceptions.LDAPBindError("invalidCredentials")
        return conn


@pytest.fixture
def ca_file(tmp_path, monkeypatch):
    """ldap3's Tls object insists that the CA file exists (it is never read here: the
    in-memory directory does no TLS)."""
    path = tmp_path / "ldap-ca.crt"
    path.write_text("")
    monkeypatch.setitem(LDAP, "ca_file", str(path))
    return path


def login(monkeypatch, username, password, directory=None):
    directory = directory or Directory()
    monkeypatch.setattr(ldap3, "Connection", directory)
    c = Config()
    config.apply(c, "JovialLDAPAuthenticator", config.authenticator_config(LDAP))
    authenticator = JovialLDAPAuthenticator(config=c)

    async def flow():
        model = await authenticator.get_authenticated_user(
            None, {"username": username, "password": password}
        )
        return model

    return asyncio.run(flow()), directory


def test_member_of_an_allowed_group_logs_in(monkeypatch, ca_file):
    model, _ = login(monkeypatch, "jsoto", "jsoto-pw")
    assert model["name"] == "jsoto"
    assert model["admin"] is False
    assert model["auth_state"]["ldap_groups"] == [
        f"cn=survey-gal,ou=groups,{BASE}",
        f"cn=survey-var,ou=groups,{BASE}",
    ]


def test_admin_group_member_is_admin(monkeypatch, ca_file):
    model, _ = login(monkeypatch, "mperez", "mperez-pw")
    assert (model["name"], model["admin"]) == ("mperez", True)


def test_wrong_password_is_refused(monkeypatch, ca_file):
    model, _ = login(monkeypatch, "jsoto", "not-the-password")
    assert model is None


def test_user_outside_allowed_groups_is_refused(monkeypatch, ca_file):
    model, _ = login(monkeypatch, "guest", "guest-pw")
    assert model is None


def test_first_server_down_fails_over(monkeypatch, ca_file):
    model, directory = login(
        monkeypatch, "jsoto", "jsoto-pw", Directory(down={"ldap01.obs.example.org"})
    )
    assert model["name"] == "jsoto"
    assert "ldap02.obs.example.org" in directory.contacted


def test_all_servers_down_is_an_error_naming_them(monkeypatch, ca_file):
    with pytest.raises(LDAPSocketOpenError, match=r"ldap01\.obs\.example\.org: .*ldap02"):
        login(monkeypatch, "jsoto", "jsoto-pw", Directory(down=set(LDAP_HOSTS)))


def test_without_allowed_groups_every_directory_user_may_log_in():
    """Admin groups alone must not turn into the only groups allowed to log in."""
    settings = {**LDAP, "allowed_groups": []}
    traits = config.authenticator_config(settings)
    assert traits["allow_all"] is True
    assert traits["allowed_groups"] == traits["admin_groups"]


def test_with_allowed_groups_login_is_restricted_to_them():
    traits = config.authenticator_config(LDAP)
    assert traits["allow_all"] is False


def test_logins_wait_on_the_directory_side_by_side_not_in_turn(monkeypatch, ca_file):
    """Two logins at once: each one's first connection waits until the other's has begun too.
    Were logins run on the hub's event loop (LDAPAuthenticator's binds block), the second could
    only begin after the first had finished, and the wait would time out."""
    both_connecting = threading.Barrier(2, timeout=10)
    directory = Directory()
    first_call: set[str] = set()

    def connection(server, user=None, password=None, auto_bind=None, **kwargs):
        if user not in first_call and user != READER:
            first_call.add(user)
            both_connecting.wait()
        return directory(server, user=user, password=password, auto_bind=auto_bind, **kwargs)

    monkeypatch.setattr(ldap3, "Connection", connection)
    c = Config()
    config.apply(c, "JovialLDAPAuthenticator", config.authenticator_config(LDAP))
    authenticator = JovialLDAPAuthenticator(config=c)

    async def both():
        return await asyncio.gather(
            authenticator.get_authenticated_user(
                None, {"username": "jsoto", "password": "jsoto-pw"}
            ),
            authenticator.get_authenticated_user(
                None, {"username": "lvega", "password": "lvega-pw"}
            ),
        )

    jsoto, lvega = asyncio.run(both())
    assert (jsoto["name"], lvega["name"]) == ("jsoto", "lvega")
    assert authenticator.server_address == LDAP_HOSTS[0]
