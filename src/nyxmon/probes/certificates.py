"""What a peer certificate says, read from its DER: subject, issuer, names, validity, serial.

The ``ssl`` module only parses a certificate it verified, but a monitor must describe the
certificate it rejected too ("expired 3 days ago", "issued for other.example"), so the ``tls``
probe reads the DER itself. It walks just the ASN.1 it needs (X.509's tbsCertificate: serial,
issuer, validity, subject and the subjectAltName extension) instead of importing a crypto
library: ``cryptography`` cost the agent about 10 MB of RSS for these five fields. Names are
written as ``cryptography``'s ``rfc4514_string()`` writes them (the tests compare the two).
:func:`matches_host` follows RFC 6125 as browsers do: the subjectAltName decides, a ``*``
stands for exactly one left-most label, IPs match IP entries.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

from nyxmon.probes._tls import der_element, der_time

__all__ = ["CertificateInfo", "matches_host", "read_certificate"]

_SEQUENCE = 0x30
_SET = 0x31
_OID = 0x06
_INTEGER = 0x02
_BOOLEAN = 0x01
_OCTET_STRING = 0x04
_BIT_STRING = 0x03
_VERSION = 0xA0
_EXTENSIONS = 0xA3
_SAN_DNS = 0x82
_SAN_IP = 0x87
_SUBJECT_ALT_NAME = "2.5.29.17"

#: Attribute short names ``rfc4514_string()`` uses; other attributes show their dotted OID.
_ATTRIBUTE_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.9": "STREET",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}
#: ASN.1 string types and how their bytes become text.
_STRING_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x12: "ascii",  # NumericString
    0x13: "ascii",  # PrintableString
    0x14: "latin-1",  # TeletexString (T.61; in practice Latin-1)
    0x16: "ascii",  # IA5String
    0x1A: "ascii",  # VisibleString
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}


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


def _children(der: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """(tag, content start, content end) of each element between ``start`` and ``end``."""
    items: list[tuple[int, int, int]] = []
    while start < end:
        item = der_element(der, start)
        if item[2] > end:
            raise ValueError("truncated DER element")
        items.append(item)
        start = item[2]
    return items


def _oid(raw: bytes) -> str:
    if not raw:
        raise ValueError("empty object identifier")
    arcs: list[int] = []
    value = 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in (*head, *arcs[1:]))


def _escape(value: str | bytes) -> str:
    """An attribute value as RFC 4514 (and ``cryptography``) writes it."""
    if not value:
        return ""
    if isinstance(value, bytes):
        return "#" + value.hex()
    for special in ("\\", '"', "+", ",", ";", "<", ">"):
        value = value.replace(special, "\\" + special)
    value = value.replace("\0", "\\00")
    if value[0] in ("#", " "):
        value = "\\" + value
    if value[-1] == " ":
        value = value[:-1] + "\\ "
    return value


def _attribute_value(der: bytes, tag: int, start: int, end: int) -> str | bytes:
    raw = der[start:end]
    if tag == _BIT_STRING:
        return raw[1:]  # after the count of unused bits
    codec = _STRING_CODECS.get(tag)
    if codec is None:
        raise ValueError(f"unexpected name attribute type 0x{tag:02x}")
    return raw.decode(codec)


def _name(der: bytes, start: int, end: int) -> str:
    """An X.509 Name as ``cryptography``'s ``rfc4514_string()``: last RDN first."""
    rdns: list[str] = []
    for tag, rdn_start, rdn_end in _children(der, start, end):
        if tag != _SET:
            raise ValueError("malformed name")
        parts: list[str] = []
        for tag, pair_start, pair_end in _children(der, rdn_start, rdn_end):
            pair = _children(der, pair_start, pair_end)
            if tag != _SEQUENCE or len(pair) != 2 or pair[0][0] != _OID:
                raise ValueError("malformed name attribute")
            oid = _oid(der[pair[0][1] : pair[0][2]])
            value = _attribute_value(der, *pair[1])
            parts.append(f"{_ATTRIBUTE_NAMES.get(oid, oid)}={_escape(value)}")
        rdns.append("+".join(parts))
    return ",".join(reversed(rdns))


def _alt_names(der: bytes, start: int, end: int) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) of a subjectAltName extension's value."""
    tag, start, end = der_element(der, start)
    if tag != _SEQUENCE:
        raise ValueError("malformed subjectAltName")
    dns_names: list[str] = []
    ips: list[str] = []
    for tag, name_start, name_end in _children(der, start, end):
        if tag == _SAN_DNS:
            dns_names.append(der[name_start:name_end].decode("ascii"))
        elif tag == _SAN_IP:
            ips.append(str(ipaddress.ip_address(der[name_start:name_end])))
    return dns_names, ips


def _extensions(der: bytes, start: int, end: int) -> tuple[list[str], list[str]]:
    tag, start, end = der_element(der, start)
    if tag != _SEQUENCE:
        raise ValueError("malformed extensions")
    for tag, ext_start, ext_end in _children(der, start, end):
        fields = _children(der, ext_start, ext_end)
        if tag != _SEQUENCE or not fields or fields[0][0] != _OID:
            raise ValueError("malformed extension")
        if _oid(der[fields[0][1] : fields[0][2]]) != _SUBJECT_ALT_NAME:
            continue
        value = fields[-1]
        if value[0] != _OCTET_STRING:
            raise ValueError("malformed subjectAltName")
        return _alt_names(der, value[1], value[2])
    return [], []


@functools.lru_cache(maxsize=256)
def read_certificate(der: bytes) -> CertificateInfo:
    """The parts of the DER certificate ``der`` a monitor shows; ValueError if unreadable.

    Kept for the last 256 certificates: a server shows the same one run after run."""
    try:
        tag, start, end = der_element(der, 0)
        if tag != _SEQUENCE:
            raise ValueError("not a certificate")
        tag, start, end = der_element(der, start)  # tbsCertificate
        if tag != _SEQUENCE:
            raise ValueError("not a certificate")
        fields = _children(der, start, end)
        if fields and fields[0][0] == _VERSION:
            fields = fields[1:]
        if len(fields) < 6:
            raise ValueError("not a certificate")
        serial, _, issuer, validity, subject, _ = fields[:6]
        if serial[0] != _INTEGER or validity[0] != _SEQUENCE:
            raise ValueError("not a certificate")
        times = _children(der, validity[1], validity[2])
        if len(times) != 2:
            raise ValueError("malformed validity")
        dns_names: list[str] = []
        ips: list[str] = []
        for extra in fields[6:]:
            if extra[0] == _EXTENSIONS:
                dns_names, ips = _extensions(der, extra[1], extra[2])
        number = int.from_bytes(der[serial[1] : serial[2]], "big", signed=True)
        return CertificateInfo(
            subject=_name(der, subject[1], subject[2]),
            issuer=_name(der, issuer[1], issuer[2]),
            dns_names=tuple(dns_names),
            ip_addresses=tuple(ips),
            not_before=der_time(der, times[0]),
            not_after=der_time(der, times[1]),
            serial=format(number, "x"),
        )
    except (IndexError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable certificate: {exc}") from None


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
