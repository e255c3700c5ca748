"""Filters for the site CA role (roles/site_ca).

``site_ca_issued_current`` answers, in the controller's own process, whether a host's key and
certificate on the control node are already exactly what ``tasks/issue.yml`` would make. When
they are, the role skips its four control-node crypto modules for that host (each is a Python
process that loads ``cryptography``: most of a no-op converge's time in the site CA role).
The check is conservative: anything it cannot read, or any difference, answers False, and the
community.crypto modules then decide and repair as before. Unit-tested in
tests/unit/plugins/filter/test_pki.py.

``site_ca_cert_status``, ``site_ca_crl_due`` and ``site_ca_name`` read a certificate, the
site CA's CRL and the CA's subject for renewal and revocation (tasks/renew.yml, tasks/crl.yml
and playbooks/verify.yml): pure functions of PEM text and the time, unit-tested too.
"""

from __future__ import annotations

import datetime
import ipaddress
import stat
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleFilterError

# The control node needs cryptography (pyproject.toml) for these filters to answer; without it
# the plugin still loads (ansible-doc, plugin listing) and each filter says what is missing.
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError as _err:
    CRYPTOGRAPHY_IMPORT_ERROR: ImportError | None = _err
else:
    CRYPTOGRAPHY_IMPORT_ERROR = None

# The names community.crypto accepts for extended key usages, as OIDs.
_USAGES = {
    "serverAuth": "SERVER_AUTH",
    "clientAuth": "CLIENT_AUTH",
    "codeSigning": "CODE_SIGNING",
    "emailProtection": "EMAIL_PROTECTION",
    "timeStamping": "TIME_STAMPING",
    "OCSPSigning": "OCSP_SIGNING",
}


def _require_cryptography(what: str) -> None:
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        raise AnsibleFilterError(
            f"{what} needs the Python package cryptography on the control node "
            f"({CRYPTOGRAPHY_IMPORT_ERROR}); install it into Ansible's Python (make deps)"
        )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _wanted_sans(sans: list[str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for san in sans:
        kind, _sep, value = str(san).partition(":")
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
    _require_cryptography("site_ca_issued_current")
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


def _now(now: str | None) -> datetime.datetime:
    if now is None:
        return datetime.datetime.now(datetime.UTC)
    return datetime.datetime.fromisoformat(now).astimezone(datetime.UTC)


def _load_crl(crl_pem: str | None, what: str) -> Any:
    if not crl_pem:
        return None
    try:
        return x509.load_pem_x509_crl(crl_pem.encode())
    except ValueError as err:
        raise AnsibleFilterError(f"{what}: the site CA's CRL is not a PEM CRL ({err})") from err


def site_ca_cert_status(
    cert_pem: str, crl_pem: str | None = None, renew_days: int = 30, now: str | None = None
) -> dict[str, Any]:
    """What an operator and the renewal need to know of one certificate: its serial (hex,
    as openssl prints it), when it expires (ISO 8601 UTC) and in how many whole days, whether
    it has expired, whether ``crl_pem`` lists it as revoked (and why), and whether it is due
    for re-issue (expired, revoked, or expiring within ``renew_days``). ``now`` (ISO 8601)
    is for tests. A cert_pem that is not a PEM certificate raises AnsibleFilterError."""
    _require_cryptography("site_ca_cert_status")
    try:
        cert = x509.load_pem_x509_certificate(str(cert_pem).encode())
    except ValueError as err:
        raise AnsibleFilterError(f"site_ca_cert_status: not a PEM certificate ({err})") from err
    at = _now(now)
    not_after = cert.not_valid_after_utc
    days_left = (not_after - at) // datetime.timedelta(days=1)
    crl = _load_crl(crl_pem, "site_ca_cert_status")
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number) if crl else None
    reason = None
    if entry is not None:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
        except x509.ExtensionNotFound:
            reason = "unspecified"
    expired = not_after <= at
    serial = f"{cert.serial_number:X}"
    return {
        "serial": serial.rjust(len(serial) + len(serial) % 2, "0"),  # as openssl prints it
        "subject_cn": ", ".join(
            str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        ),
        "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days_left": days_left,
        "expired": expired,
        "revoked": entry is not None,
        "revocation_reason": reason,
        "renew": expired or entry is not None or days_left < int(renew_days),
    }


def site_ca_crl_due(crl_pem: str | None, renew_days: int = 30, now: str | None = None) -> bool:
    """True when the CRL must be (re-)signed: there is none yet, or its nextUpdate is within
    ``renew_days`` (TLS clients that check it refuse every certificate once it is past)."""
    _require_cryptography("site_ca_crl_due")
    crl = _load_crl(crl_pem, "site_ca_crl_due")
    if crl is None:
        return True
    next_update = crl.next_update_utc
    if next_update is None:
        return True
    return next_update - _now(now) < datetime.timedelta(days=int(renew_days))


# community.crypto's short names for the attributes of a CA subject (by NameOID attribute).
_NAME_KEYS = {
    "COMMON_NAME": "CN",
    "ORGANIZATION_NAME": "O",
    "ORGANIZATIONAL_UNIT_NAME": "OU",
    "COUNTRY_NAME": "C",
    "STATE_OR_PROVINCE_NAME": "ST",
    "LOCALITY_NAME": "L",
    "DOMAIN_COMPONENT": "DC",
    "EMAIL_ADDRESS": "emailAddress",
}


def site_ca_name(ca_pem: str) -> list[dict[str, str]]:
    """The CA certificate's subject as community.crypto's ``issuer_ordered`` (a CRL must name
    its issuer exactly as the CA certificate does, also for a CA a site brings)."""
    _require_cryptography("site_ca_name")
    try:
        ca = x509.load_pem_x509_certificate(str(ca_pem).encode())
    except ValueError as err:
        raise AnsibleFilterError(f"site_ca_name: not a PEM certificate ({err})") from err
    keys = {getattr(NameOID, oid): key for oid, key in _NAME_KEYS.items()}
    out = []
    for attr in ca.subject:
        key = keys.get(attr.oid)
        if key is None:
            raise AnsibleFilterError(
                f"site_ca_name: the CA subject attribute {attr.oid.dotted_string} "
                f"({attr.value!r}) has no name community.crypto knows; use a CA whose subject "
                f"uses only {sorted(_NAME_KEYS.values())}"
            )
        out.append({key: str(attr.value)})
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "site_ca_issued_current": site_ca_issued_current,
            "site_ca_cert_status": site_ca_cert_status,
            "site_ca_crl_due": site_ca_crl_due,
            "site_ca_name": site_ca_name,
        }
