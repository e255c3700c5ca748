"""Filters for the site CA role (roles/site_ca).

``site_ca_issued_current`` answers, in the controller's own process, whether a host's key and
certificate on the control node are already exactly what ``tasks/issue.yml`` would make. When
they are, the role skips its four control-node crypto modules for that host (each is a Python
process that loads ``cryptography``: most of a no-op converge's time in the site CA role).
The check is conservative: anything it cannot read, or any difference, answers False, and the
community.crypto modules then decide and repair as before. Unit-tested in
tests/unit/plugins/filter/test_pki.py.
"""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The names community.crypto accepts for extended key usages, as OIDs.
_USAGES = {
    "serverAuth": "SERVER_AUTH",
    "clientAuth": "CLIENT_AUTH",
    "codeSigning": "CODE_SIGNING",
    "emailProtection": "EMAIL_PROTECTION",
    "timeStamping": "TIME_STAMPING",
    "OCSPSigning": "OCSP_SIGNING",
}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _wanted_sans(sans: list[str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for san in sans:
        kind, _, value = str(san).partition(":")
        if kind == "DNS":
            out.add(("DNS", value.lower()))
        elif kind == "IP":
            out.add(("IP", str(ipaddress.ip_address(value))))
        else:
            raise AnsibleFilterError(
                f"site_ca_cert_sans entry {san!r}: only DNS:<name> and IP:<address> are "
                "supported by the site CA"
            )
    return out


def _cert_sans(cert: Any) -> set[tuple[str, str]]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    dns = {("DNS", name.lower()) for name in ext.get_values_for_type(x509.DNSName)}
    ips = {("IP", str(ip)) for ip in ext.get_values_for_type(x509.IPAddress)}
    return dns | ips


def _usages(names: list[str]) -> set[Any]:
    unknown = [n for n in names if n not in _USAGES]
    if unknown:
        raise AnsibleFilterError(
            f"site_ca_cert_usages {unknown!r} unknown; use any of {sorted(_USAGES)}"
        )
    return {getattr(ExtendedKeyUsageOID, _USAGES[n]) for n in names}


def site_ca_issued_current(
    issued_dir: str,
    name: str,
    ca_cert: str,
    common_name: str,
    sans: list[str],
    usages: list[str],
    key_size: int,
) -> bool:
    """True when ``<issued_dir>/<name>.key`` and ``.crt`` exist with the role's modes (dir
    0700, key 0600, certificate 0644), the key is RSA of ``key_size`` bits, the certificate
    holds that key, is signed by ``ca_cert``, and names exactly ``common_name``, ``sans`` and
    the extended key ``usages`` asked for. Bad SAN or usage values raise AnsibleFilterError."""
    wanted_sans = _wanted_sans(sans)
    wanted_usages = _usages(usages)
    folder = Path(issued_dir)
    key_path, cert_path = folder / f"{name}.key", folder / f"{name}.crt"
    try:
        if (_mode(folder), _mode(key_path), _mode(cert_path)) != (0o700, 0o600, 0o644):
            return False
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        ca = x509.load_pem_x509_certificate(Path(ca_cert).read_bytes())
    except (OSError, ValueError, TypeError):
        return False
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != int(key_size):
        return False
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        return False
    try:
        cert.verify_directly_issued_by(ca)  # issuer name and signature
    except Exception:  # InvalidSignature, ValueError, TypeError: not issued by this CA
        return False
    cns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if cns != [common_name] or _cert_sans(cert) != wanted_sans:
        return False
    try:
        eku = set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        eku = set()
    return eku == wanted_usages


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"site_ca_issued_current": site_ca_issued_current}
