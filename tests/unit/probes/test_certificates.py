"""The tls probe's DER reader against ``cryptography``'s parse of the same certificates: the
tests' own TLS material (trustme: a CA, a leaf for localhost/127.0.0.1/::1, an expired one) and
certificates built here with the awkward parts (escaped and multi-valued names, other string
types, no subjectAltName, dates past 2049)."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from nyxmon.probes.certificates import matches_host, read_certificate
from tests.servers.tls import make_tls_material

_KEY = ec.generate_private_key(ec.SECP256R1())
_UTC = datetime.UTC


def as_cryptography_reads_it(der: bytes) -> dict[str, object]:
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        assert isinstance(san, x509.SubjectAlternativeName)
        dns = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns, ips = (), ()
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "dns_names": dns,
        "ip_addresses": ips,
        "not_before": cert.not_valid_before_utc.timestamp(),
        "not_after": cert.not_valid_after_utc.timestamp(),
        "serial": format(cert.serial_number, "x"),
    }


def as_read_here(der: bytes) -> dict[str, object]:
    info = read_certificate(der)
    return {
        "subject": info.subject,
        "issuer": info.issuer,
        "dns_names": info.dns_names,
        "ip_addresses": info.ip_addresses,
        "not_before": info.not_before,
        "not_after": info.not_after,
        "serial": info.serial,
    }


def build(
    subject: x509.Name,
    *,
    names: list[x509.GeneralName] | None = None,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    serial: int = 0x1F2E3D4C5B6A,
) -> bytes:
    now = datetime.datetime.now(_UTC).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")]))
        .public_key(_KEY.public_key())
        .serial_number(serial)
        .not_valid_before(not_before or now - datetime.timedelta(days=1))
        .not_valid_after(not_after or now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if names is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(_KEY, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.DER)


def pem_to_der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def test_the_tests_tls_material_reads_as_cryptography_reads_it(tmp_path: Path) -> None:
    material = make_tls_material(tmp_path)
    leaf = pem_to_der(material.server_cert.cert_chain_pems[0].bytes())
    ca = pem_to_der(material.ca.cert_pem.bytes())
    for der in (leaf, ca):
        assert as_read_here(der) == as_cryptography_reads_it(der)
    info = read_certificate(leaf)
    assert info.names == ["localhost", "127.0.0.1", "::1"]
    assert "trustme" in info.issuer


def test_an_expired_certificate_shows_its_past_end(tmp_path: Path) -> None:
    material = make_tls_material(tmp_path, valid_for=datetime.timedelta(days=-3))
    der = pem_to_der(material.server_cert.cert_chain_pems[0].bytes())
    assert as_read_here(der) == as_cryptography_reads_it(der)
    left = read_certificate(der).not_after - datetime.datetime.now(_UTC).timestamp()
    assert -3.1 * 86400 < left < -2.9 * 86400


def test_an_intermediate_signed_leaf_names_its_issuer(tmp_path: Path) -> None:
    leaf = trustme.CA().create_child_ca().issue_cert("other.example")
    der = pem_to_der(leaf.cert_chain_pems[0].bytes())
    assert as_read_here(der) == as_cryptography_reads_it(der)
    info = read_certificate(der)
    assert not matches_host(info, "localhost")
    assert matches_host(info, "OTHER.example.")


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param([(NameOID.COMMON_NAME, "plain.example")], id="cn"),
        pytest.param(
            [
                (NameOID.COUNTRY_NAME, "DE"),
                (NameOID.STATE_OR_PROVINCE_NAME, "Berlin"),
                (NameOID.LOCALITY_NAME, "Berlin"),
                (NameOID.ORGANIZATION_NAME, "Nyx, Mon & Co."),
                (NameOID.ORGANIZATIONAL_UNIT_NAME, "Ops+Dev"),
                (NameOID.STREET_ADDRESS, 'Straße "7"'),
                (NameOID.DOMAIN_COMPONENT, "example"),
                (NameOID.USER_ID, "uid<1>"),
                (NameOID.EMAIL_ADDRESS, "ops@example.com"),
                (NameOID.COMMON_NAME, " #lead; and trail "),
            ],
            id="every-escape-and-known-name",
        ),
        pytest.param([(NameOID.COMMON_NAME, "日本語.example")], id="utf8"),
        pytest.param(
            [(NameOID.TITLE, "Chief\\Ops"), (NameOID.SERIAL_NUMBER, "A-123")], id="dotted-oid"
        ),
    ],
)
def test_names_read_as_rfc4514_like_cryptography(
    attributes: list[tuple[x509.ObjectIdentifier, str]],
) -> None:
    subject = x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])
    der = build(subject, names=[x509.DNSName("plain.example")])
    assert as_read_here(der) == as_cryptography_reads_it(der)


def test_multi_valued_rdns_and_other_string_types() -> None:
    subject = x509.Name(
        [
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "two"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "values"),
                ]
            ),
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(NameOID.LOCALITY_NAME, "bmp", x509.name._ASN1Type.BMPString)]
            ),
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(
                        NameOID.ORGANIZATIONAL_UNIT_NAME, "t61", x509.name._ASN1Type.T61String
                    )
                ]
            ),
        ]
    )
    der = build(subject)
    assert as_read_here(der) == as_cryptography_reads_it(der)


def test_no_alt_names_wildcards_ipv6_and_dates_past_2049() -> None:
    far = datetime.datetime(2060, 5, 17, 12, 30, 45, tzinfo=_UTC)
    der = build(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wild")]),
        names=[
            x509.DNSName("*.example.org"),
            x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
            x509.RFC822Name("ops@example.org"),
        ],
        not_after=far,
        serial=2**159 - 1,
    )
    assert as_read_here(der) == as_cryptography_reads_it(der)
    info = read_certificate(der)
    assert info.not_after == far.timestamp()
    assert matches_host(info, "www.example.org")
    assert not matches_host(info, "a.b.example.org")
    assert not matches_host(info, "example.org")
    assert matches_host(info, "2001:db8:0::1")
    bare = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bare")]))
    assert as_read_here(bare) == as_cryptography_reads_it(bare)
    assert read_certificate(bare).names == []


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20))
def test_any_common_name_reads_like_cryptography(value: str) -> None:
    der = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value)]))
    assert (
        read_certificate(der).subject
        == x509.load_der_x509_certificate(der).subject.rfc4514_string()
    )


@pytest.mark.parametrize(
    "der",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x30\x03\x02\x01", id="truncated"),
        pytest.param(b"not a certificate at all", id="text"),
        pytest.param(b"\x30\x02\x05\x00", id="null-inside"),
    ],
)
def test_what_is_not_a_certificate_is_a_value_error(der: bytes) -> None:
    with pytest.raises(ValueError, match=r"certificate|DER"):
        read_certificate(der)


def test_a_cut_off_certificate_is_a_value_error(tmp_path: Path) -> None:
    der = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cut")]))
    for end in (10, len(der) // 2, len(der) - 1):
        with pytest.raises(ValueError, match=r"certificate|DER"):
            read_certificate(der[:end])
