"""ldap_replication: ldapsearch of contextCSN on each provider, compared (real output of
ldapsearch 2.5.13, tests/unit/fixtures/ldap/)."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import patch

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ldap"
BASE = "dc=ldap,dc=jovial,dc=test"
URIS = ["ldaps://ml-ldap1.ldap.jovial.test", "ldap://ml-ldap2.ldap.jovial.test"]
ARGS = {
    "uris": URIS,
    "base": BASE,
    "bind_dn": f"cn=reader,ou=services,{BASE}",
    "bind_pw": "reader-secret",
    "ca_file": "/etc/ldap/tls/ca.crt",
}


@pytest.fixture
def module(load_plugin):
    return load_plugin("plugins/modules/ldap_replication.py")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def run(plugin, args, capsys, outputs):
    """outputs: uri -> (rc, stdout, stderr)."""
    calls = []

    def fake_run_command(self, argv, **kwargs):
        calls.append({"argv": argv, "env": dict(self.run_command_environ_update)})
        return outputs[argv[argv.index("-H") + 1]]

    with (
        patch_module_args(args),
        patch.object(AnsibleModule, "run_command", fake_run_command),
        pytest.raises(SystemExit),
    ):
        plugin.main()
    return json.loads(capsys.readouterr().out), calls


@pytest.mark.parametrize("check_mode", [False, True])
def test_in_sync(module, capsys, check_mode):
    result, calls = run(
        module,
        {**ARGS, "_ansible_check_mode": check_mode},
        capsys,
        {
            URIS[0]: (0, fixture("contextcsn_ldap1_in_sync.ldif"), ""),
            URIS[1]: (0, fixture("contextcsn_ldap2_in_sync.ldif"), ""),
        },
    )
    assert result["changed"] is False and result["in_sync"] is True
    assert result["providers"][URIS[0]]["context_csn"] == {
        "1": "20261122030220.488589Z#000000#001#000000",
        "2": "20261122031800.125613Z#000000#002#000000",
    }
    argv0, argv1 = calls[0]["argv"], calls[1]["argv"]
    pw_file = argv0[argv0.index("-y") + 1]
    assert argv0 == [
        "ldapsearch",
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-o",
        "nettimeout=5",
        "-H",
        URIS[0],
        "-x",
        "-D",
        ARGS["bind_dn"],
        "-y",
        pw_file,
        "-b",
        BASE,
        "-s",
        "base",
        "(objectClass=*)",
        "contextCSN",
    ]
    # Plain ldap:// always with StartTLS required; the password never on the command line.
    assert "-ZZ" in argv1 and "reader-secret" not in " ".join(argv0 + argv1)
    assert calls[0]["env"]["LDAPTLS_CACERT"] == "/etc/ldap/tls/ca.crt"
    assert calls[0]["env"]["LDAPTLS_REQCERT"] == "demand"


def test_one_provider_behind(module, capsys):
    result, _ = run(
        module,
        ARGS,
        capsys,
        {
            URIS[0]: (0, fixture("contextcsn_ldap1_ahead.ldif"), ""),
            URIS[1]: (0, fixture("contextcsn_ldap2_in_sync.ldif"), ""),
        },
    )
    assert result["in_sync"] is False
    assert result["behind"] == {URIS[0]: [], URIS[1]: [1]}
    assert result["lag_seconds"][URIS[1]] == pytest.approx(945.60735)


def test_unreachable_provider_is_reported_not_in_sync(module, capsys):
    down = (255, "", "ldap_sasl_bind(SIMPLE): Can't contact LDAP server (-1)\n")
    result, _ = run(
        module,
        ARGS,
        capsys,
        {URIS[0]: (0, fixture("contextcsn_ldap1_in_sync.ldif"), ""), URIS[1]: down},
    )
    assert result["in_sync"] is False
    assert result["providers"][URIS[1]] == {
        "context_csn": {},
        "error": f"ldapsearch on {URIS[1]} failed (rc=255): ldap_sasl_bind(SIMPLE): "
        "Can't contact LDAP server (-1)",
    }


def test_unreachable_provider_fails_when_asked(module, capsys):
    down = (255, "", "ldap_sasl_bind(SIMPLE): Can't contact LDAP server (-1)\n")
    result, _ = run(
        module,
        {**ARGS, "fail_on_unreachable": True},
        capsys,
        {URIS[0]: down, URIS[1]: down},
    )
    assert result["failed"] is True
    assert result["msg"].startswith(f"ldapsearch on {URIS[0]} failed (rc=255)")


def test_external_bind_on_ldapi(module, capsys):
    result, calls = run(
        module,
        {"uris": ["ldapi:///"], "base": BASE},
        capsys,
        {"ldapi:///": (0, fixture("contextcsn_ldap1_in_sync.ldif"), "")},
    )
    assert result["in_sync"] is True
    assert calls[0]["argv"][8:11] == ["-Q", "-Y", "EXTERNAL"]
