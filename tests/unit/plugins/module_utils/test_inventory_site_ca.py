"""The site CA's inventory checks (check_site_ca): lifetimes are days from 1 to 3650, and the
renewal threshold is below both lifetimes (or every run would renew again: not idempotent).
Each case states the exact problems it must produce, no more and no fewer."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.module_utils import inventory_model as im
from test_inventory_model import build

DEFAULTS = {
    "site.site_ca_cert_valid_days": 397,
    "site.site_ca_renew_days": 30,
    "site.site_ca_crl_valid_days": 180,
}

CASES = [
    pytest.param({}, [], id="unset-valid"),
    pytest.param(DEFAULTS, [], id="role-defaults-valid"),
    pytest.param(
        {**DEFAULTS, "site.site_ca_cert_valid_days": "397", "site.site_ca_crl_valid_days": 0},
        [
            "site_ca_cert_valid_days '397' is not a number of days from 1 to 3650; set it in "
            "group_vars/all/site_ca.yml (roles/site_ca/defaults/main.yml has the default)",
            "site_ca_crl_valid_days 0 is not a number of days from 1 to 3650; set it in "
            "group_vars/all/site_ca.yml (roles/site_ca/defaults/main.yml has the default)",
        ],
        id="not-days",
    ),
    pytest.param(
        {**DEFAULTS, "site.site_ca_renew_days": 200},
        [
            "site_ca_renew_days 200 is not less than site_ca_crl_valid_days 180: every run "
            "would renew again; set site_ca_renew_days below 180 or "
            "site_ca_crl_valid_days above 200"
        ],
        id="renew-beyond-crl-lifetime",
    ),
    pytest.param(
        {**DEFAULTS, "site.site_ca_cert_valid_days": 30},
        [
            "site_ca_renew_days 30 is not less than site_ca_cert_valid_days 30: every run "
            "would renew again; set site_ca_renew_days below 30 or "
            "site_ca_cert_valid_days above 30"
        ],
        id="renew-equals-cert-lifetime",
    ),
]


@pytest.mark.parametrize(("changes", "expected"), CASES)
def test_check_site_ca(changes: dict[str, Any], expected: list[str]) -> None:
    assert im.check_site_ca(build(changes)) == expected


def test_the_check_runs_with_every_other_check_and_reads_the_role_defaults() -> None:
    assert im.check_site_ca in im.CHECKERS
    assert im.ROLE_DEFAULTS["site_ca"] == im.SITE_CA_SETTINGS
    assert set(im.SITE_CA_SETTINGS) <= set(im.SITE_VARIABLES)
    model = build({**DEFAULTS, "site.site_ca_renew_days": 400})
    assert any(p.startswith("site_ca_renew_days 400 is not less") for p in im.validate(model))
