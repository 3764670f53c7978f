"""Reading a peer certificate's expiry without a crypto library.

The HTTP probe reports days to expiry even when verification is off, so it reads the server
certificate itself (libcurl's ``CERTINFO`` hands it out, as PEM, whether or not it was verified)
and walks just enough ASN.1 to reach ``validity.notAfter``: the printed dates next to it differ
between TLS libraries, the DER does not.
"""

from __future__ import annotations

import calendar
import functools
import time

__all__ = ["certificate_not_after", "der_element", "der_time"]

_SEQUENCE = 0x30
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_VERSION_TAG = 0xA0


def der_element(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``pos``."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER element")
    return tag, pos, pos + length


def _parse_time(tag: int, raw: bytes) -> float:
    text = raw.decode("ascii")
    if not text.endswith("Z"):
        raise ValueError(f"certificate time {text!r} is not UTC")
    if tag == _UTC_TIME:
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    parsed = time.strptime(text[:14], "%Y%m%d%H%M%S")
    return float(calendar.timegm(parsed))


def der_time(der: bytes, element: tuple[int, int, int]) -> float:
    """The POSIX time of a UTCTime or GeneralizedTime ``element`` (from :func:`der_element`)."""
    tag, start, end = element
    if tag not in (_UTC_TIME, _GENERALIZED_TIME):
        raise ValueError("unexpected certificate time encoding")
    return _parse_time(tag, der[start:end])


@functools.lru_cache(maxsize=256)  # the same certificate run after run; strptime is slow
def certificate_not_after(der: bytes) -> float:
    """The POSIX time after which the DER-encoded certificate ``der`` is no longer valid.

    Raises ``ValueError`` when ``der`` is not a certificate this can read.
    """
    try:
        tag, start, _ = der_element(der, 0)
        if tag != _SEQUENCE:
            raise ValueError("not a certificate")
        tag, pos, _ = der_element(der, start)  # tbsCertificate
        if tag != _SEQUENCE:
            raise ValueError("not a certificate")
        tag, _, end = der_element(der, pos)
        if tag == _VERSION_TAG:
            pos = end
        for _skipped in ("serial", "signature", "issuer"):
            _, _, pos = der_element(der, pos)
        tag, validity, _ = der_element(der, pos)
        if tag != _SEQUENCE:
            raise ValueError("no validity in certificate")
        _, _, after_not_before = der_element(der, validity)
        tag, start, end = der_element(der, after_not_before)
        if tag not in (_UTC_TIME, _GENERALIZED_TIME):
            raise ValueError("unexpected notAfter encoding")
        return _parse_time(tag, der[start:end])
    except (IndexError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable certificate: {exc}") from None
