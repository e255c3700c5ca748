"""LDAP login with a server list (failover) and admins from LDAP groups.

LDAPAuthenticator 2 talks to one ``server_address`` and grants no admin rights from the
directory. :class:`JovialLDAPAuthenticator` adds three traits:

- ``server_addresses``: the directory servers, tried in order until one answers (a server
  that answers "wrong password" is final; only connection errors move to the next);
- ``admin_groups``: group DNs whose members are hub admins (each must also be in
  ``allowed_groups``, which :func:`jovial_hub.config.authenticator_config` ensures); a
  user's admin flag follows the directory at every login;
- ``crl_file``: the CA's CRL, which every LDAP server's certificate is checked against too
  (:class:`jovial_hub.ldaptls.CrlTls`): a revoked one fails the handshake, and the server is
  treated like one that does not answer.

Logins run in worker threads. LDAPAuthenticator's ``authenticate`` is a coroutine that never
awaits: its TLS handshakes, binds and searches block, and on the hub's event loop they would
hold up every other request, so that 20 people logging in at once waited for each other's
directory round trips (docs/spawn-performance.md). Here each login runs it in a thread of its
own, and the connection code changes nothing on the shared authenticator.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPBindError, LDAPSocketOpenError
from ldapauthenticator import LDAPAuthenticator
from ldapauthenticator.ldapauthenticator import TlsStrategy
from traitlets import List, Unicode

from .ldaptls import CrlTls

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

    crl_file = Unicode(
        "",
        config=True,
        help="""PEM file of the CA's certificate revocation list: each LDAP server's certificate
        is also checked against it (a revoked one fails the TLS handshake). The file must be
        readable when it is set; it is read again for every connection. Empty: no CRL check.""",
    )

    def get_connection(self, userdn: str, password: str) -> Any:
        """Bind as ``userdn`` on the first server that answers; None on a refused bind.

        Safe in several threads at once: each server is addressed by a new ldap3 Server, never
        by changing ``server_address``."""
        addresses = list(self.server_addresses) or [self.server_address]
        errors: list[str] = []
        for address in addresses:
            try:
                return self._bind(address, userdn, password)
            except LDAPSocketOpenError as exc:
                self.log.warning("LDAP server %s unreachable: %s", address, exc)
                errors.append(f"{address}: {exc}")
        raise LDAPSocketOpenError(f"no LDAP server answered: {'; '.join(errors)}")

    def _bind(self, address: str, userdn: str, password: str) -> Any:
        """One server: TLS as ``tls_strategy`` says (ldaps:// or StartTLS before the bind)."""
        starttls = self.tls_strategy == TlsStrategy.before_bind
        server = ldap3.Server(
            address,
            port=self.server_port,
            use_ssl=self.tls_strategy == TlsStrategy.on_connect,
            tls=CrlTls(crl_file=self.crl_file, **self.tls_kwargs),
        )
        try:
            return ldap3.Connection(
                server,
                user=userdn,
                password=password,
                auto_bind=ldap3.AUTO_BIND_TLS_BEFORE_BIND if starttls else ldap3.AUTO_BIND_NO_TLS,
            )
        except LDAPBindError as exc:
            self.log.debug("LDAP bind of %s refused by %s: %s", userdn, address, exc)
            return None

    async def authenticate(self, handler: Any, data: dict[str, Any]) -> Any:
        # The parent's coroutine only blocks (it never awaits): run it to completion in a
        # worker thread, on an event loop of that thread's own.
        model = await asyncio.to_thread(asyncio.run, super().authenticate(handler, data))
        if isinstance(model, dict) and self.admin_groups:
            groups = set((model.get("auth_state") or {}).get("ldap_groups", []))
            model["admin"] = bool(groups.intersection(self.admin_groups))
        return model
