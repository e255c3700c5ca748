"""LDAP login with a server list (failover) and admins from LDAP groups.

LDAPAuthenticator 2 talks to one ``server_address`` and grants no admin rights from the
directory. :class:`JovialLDAPAuthenticator` adds two traits:

- ``server_addresses``: the directory servers, tried in order until one answers (a server
  that answers "wrong password" is final; only connection errors move to the next);
- ``admin_groups``: group DNs whose members are hub admins (each must also be in
  ``allowed_groups``, which :func:`jovial_hub.config.authenticator_config` ensures); a
  user's admin flag follows the directory at every login.
"""

from __future__ import annotations

from typing import Any

from ldap3.core.exceptions import LDAPSocketOpenError
from ldapauthenticator import LDAPAuthenticator
from traitlets import List, Unicode

__all__ = ["JovialLDAPAuthenticator"]


class JovialLDAPAuthenticator(LDAPAuthenticator):
    server_addresses = List(
        Unicode(),
        config=True,
        help="""Directory servers (host names or addresses), tried in order on each login.
        Empty: only server_address is used.""",
    )

    admin_groups = List(
        Unicode(),
        config=True,
        help="""LDAP group DNs whose members are JupyterHub admins. Each must also be listed in
        allowed_groups (LDAPAuthenticator only reports membership of those).""",
    )

    def get_connection(self, userdn: str, password: str) -> Any:
        """Bind as ``userdn`` on the first server that answers; None on a refused bind."""
        addresses = list(self.server_addresses) or [self.server_address]
        errors: list[str] = []
        original = self.server_address
        try:
            for address in addresses:
                self.server_address = address
                try:
                    return super().get_connection(userdn, password)
                except LDAPSocketOpenError as exc:
                    self.log.warning("LDAP server %s unreachable: %s", address, exc)
                    errors.append(f"{address}: {exc}")
        finally:
            self.server_address = original
        raise LDAPSocketOpenError(f"no LDAP server answered: {'; '.join(errors)}")

    async def authenticate(self, handler: Any, data: dict[str, Any]) -> Any:
        model = await super().authenticate(handler, data)
        if isinstance(model, dict) and self.admin_groups:
            groups = set((model.get("auth_state") or {}).get("ldap_groups", []))
            model["admin"] = bool(groups.intersection(self.admin_groups))
        return model
