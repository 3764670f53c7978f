"""What a peer certificate says, read with ``cryptography``: subject, issuer, names, validity.

The ``ssl`` module only parses a certificate it verified, but a monitor must describe the
certificate it rejected too ("expired 3 days ago", "issued for other.example"), so the ``tls``
probe reads the DER itself. :func:`matches_host` follows RFC 6125 as browsers do: the
subjectAltName decides, a ``*`` stands for exactly one left-most label, IPs match IP entries.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

__all__ = ["CertificateInfo", "matches_host", "read_certificate"]


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    subject: str
    issuer: str
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: float
    not_after: float
    serial: str

    @property
    def names(self) -> list[str]:
        return [*self.dns_names, *self.ip_addresses]


@functools.lru_cache(maxsize=256)
def read_certificate(der: bytes) -> CertificateInfo:
    """The parts of the DER certificate ``der`` a monitor shows; ValueError if unreadable.

    Kept for the last 256 certificates: a server shows the same one run after run, and
    parsing it costs ~50 us, a sixth of a TLS probe's CPU on loopback."""
    cert = x509.load_der_x509_certificate(der)
    dns_names: list[str] = []
    ips: list[str] = []
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except x509.ExtensionNotFound:
        pass
    else:
        assert isinstance(san, x509.SubjectAlternativeName)
        dns_names = list(san.get_values_for_type(x509.DNSName))
        ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        dns_names=tuple(dns_names),
        ip_addresses=tuple(ips),
        not_before=cert.not_valid_before_utc.timestamp(),
        not_after=cert.not_valid_after_utc.timestamp(),
        serial=format(cert.serial_number, "x"),
    )


def matches_host(info: CertificateInfo, host: str) -> bool:
    """Whether the certificate is valid for ``host`` (a name or an IP address)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(ip) == address for ip in info.ip_addresses)
    wanted = host.rstrip(".").lower().split(".")
    for name in info.dns_names:
        labels = name.rstrip(".").lower().split(".")
        if len(labels) != len(wanted):
            continue
        if labels[0] == "*" and len(labels) > 2 and labels[1:] == wanted[1:]:
            return True
        if labels == wanted:
            return True
    return False
