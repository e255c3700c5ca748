"""The site CA's lifetimes (roles/site_ca;
tests/unit/plugins/module_utils/test_inventory_site_ca.py).
"""

from __future__ import annotations

from . import inventory_core as core
from .inventory_core import InventoryModel

# The site CA's lifetimes and renewal threshold (group_vars/all/site_ca.yml; check_site_ca).
# Their defaults are the site_ca role's (ROLE_DEFAULTS, inventory_model.py).
SITE_CA_SETTINGS: tuple[str, ...] = (
    "site_ca_cert_valid_days",
    "site_ca_renew_days",
    "site_ca_crl_valid_days",
)


def check_site_ca(model: InventoryModel) -> list[str]:
    """Host certificate and CRL lifetimes of 1-3650 days, and a renewal threshold below both: at
    or above a lifetime every run would re-issue every certificate (or sign the CRL again)."""
    problems: list[str] = []
    days: dict[str, int] = {}
    for name in SITE_CA_SETTINGS:
        if name in model.unresolved or name not in model.site:
            continue
        value = model.site[name]
        if not core._is_int(value) or not 1 <= value <= 3650:
            problems.append(
                f"{name} {core.show(value)} is not a number of days from 1 to 3650; set it in "
                "group_vars/all/site_ca.yml (roles/site_ca/defaults/main.yml has the default)"
            )
        else:
            days[name] = value
    renew = days.get("site_ca_renew_days")
    for name in ("site_ca_cert_valid_days", "site_ca_crl_valid_days"):
        if renew is not None and name in days and renew >= days[name]:
            problems.append(
                f"site_ca_renew_days {renew} is not less than {name} {days[name]}: every run "
                f"would renew again; set site_ca_renew_days below {days[name]} "
                f"or {name} above {renew}"
            )
    return problems
