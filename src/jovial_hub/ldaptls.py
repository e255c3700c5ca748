"""TLS to the directory checked against the CA's revocation list (CRL) too.

ldap3's :class:`~ldap3.Tls` verifies the LDAP server's certificate chain (``validate``) and,
after the handshake, its name (``ldap3.core.tls.check_hostname``), but it cannot check a CRL:
its ``wrap_socket`` makes its SSLContext inside and offers no way to set the verification
flags. :class:`CrlTls` takes one more argument, ``crl_file``. When it is set, the context
(made once, when the object is made) also holds the CRLs of that file and checks the server's
certificate against them (``ssl.VERIFY_CRL_CHECK_LEAF``): a revoked certificate fails the
handshake. The name is then checked the way ldap3 checks it. Without ``crl_file`` it is
ldap3's Tls, unchanged.

The hub's two LDAP clients use it: the login (:mod:`jovial_hub.auth`) and the uid/gid lookup at
spawn time (:mod:`jovial_hub.identity`). Both make a new object for each connection, so a new
CRL on disk is read at the next connection.
"""

from __future__ import annotations

import re
import ssl
from typing import Any

from ldap3 import Tls
from ldap3.core.exceptions import LDAPSSLConfigurationError
from ldap3.core.tls import check_hostname

__all__ = ["CrlError", "CrlTls"]

_PEM_LABEL = re.compile(r"^-----BEGIN ([A-Z0-9 ]+)-----\s*$", re.MULTILINE)


class CrlError(LDAPSSLConfigurationError):
    """The CRL file cannot be read or holds something other than PEM CRLs."""


def _check_crl_file(path: str) -> None:
    """Fail unless ``path`` is readable and holds PEM CRLs only. Anything else would be loaded
    by OpenSSL just the same (a certificate in it would become a trust anchor)."""
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError as exc:
        raise CrlError(f"LDAP TLS: cannot read the CRL file {path}: {exc}") from exc
    labels = _PEM_LABEL.findall(text)
    if not labels:
        raise CrlError(f"LDAP TLS: the CRL file {path} holds no PEM CRL (BEGIN X509 CRL)")
    others = sorted(set(labels) - {"X509 CRL"})
    if others:
        raise CrlError(
            f"LDAP TLS: the CRL file {path} holds {others} besides CRLs: point crl_file at the "
            "CA's CRL (crl.pem) alone"
        )


class CrlTls(Tls):
    """ldap3's Tls with ``crl_file``: the server's certificate is also checked against the
    CRLs in that PEM file (which must be readable; :class:`CrlError` names it otherwise).

    With a CRL the context is Python's default client context (TLS 1.2 or later, the CA
    certificates given as ``ca_certs_file``/``ca_certs_path``/``ca_certs_data``); ``version``
    cannot be combined with it and ``validate`` must be ``ssl.CERT_REQUIRED``."""

    def __init__(self, *, crl_file: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.crl_file = crl_file or None
        self._context: ssl.SSLContext | None = None
        if self.crl_file:
            if self.validate != ssl.CERT_REQUIRED:
                raise CrlError(
                    f"LDAP TLS: crl_file {self.crl_file} is set but certificates are not "
                    "verified (validate is not ssl.CERT_REQUIRED)"
                )
            if self.version is not None:
                raise CrlError("LDAP TLS: crl_file cannot be combined with a fixed TLS version")
            self._context = self._crl_context()

    def _crl_context(self) -> ssl.SSLContext:
        crl_file = str(self.crl_file)
        _check_crl_file(crl_file)
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH,
            cafile=self.ca_certs_file,
            capath=self.ca_certs_path,
            cadata=self.ca_certs_data,
        )
        try:
            context.load_verify_locations(cafile=crl_file)
        except (OSError, ssl.SSLError) as exc:
            raise CrlError(f"LDAP TLS: cannot load the CRL file {crl_file}: {exc}") from exc
        context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        # The name is checked after the handshake, as ldap3 does (it also accepts valid_names).
        context.check_hostname = False
        context.verify_mode = ssl.CERT_REQUIRED
        if self.certificate_file:
            context.load_cert_chain(
                self.certificate_file,
                keyfile=self.private_key_file,
                password=self.private_key_password,
            )
        for option in self.ssl_options:
            context.options |= option
        if self.ciphers:
            context.set_ciphers(self.ciphers)
        return context

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        """TLS on ``connection.socket`` (ldap3 calls this for ldaps:// and for StartTLS)."""
        if self._context is None:
            super().wrap_socket(connection, do_handshake)
            return
        wrapped = self._context.wrap_socket(
            connection.socket,
            server_side=False,
            do_handshake_on_connect=do_handshake,
            server_hostname=self.sni,
        )
        if do_handshake:
            check_hostname(wrapped, connection.server.host, self.valid_names)
        connection.socket = wrapped
