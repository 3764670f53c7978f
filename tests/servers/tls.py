"""TLS material for test peers: a throwaway CA (trustme) and server certificates it signs."""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["TlsMaterial", "make_tls_material"]

_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsMaterial:
    """A CA, a server certificate for localhost/127.0.0.1 and the CA as a PEM file.

    ``ca_file`` is what a probe's ``ca_file`` should point at; ``server_context()`` is what a
    server passes to its listener.
    """

    ca: trustme.CA
    server_cert: trustme.LeafCert
    ca_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


def make_tls_material(
    directory: Path, *, valid_for: datetime.timedelta | None = None, name: str = "ca"
) -> TlsMaterial:
    """A fresh CA and server certificate; ``valid_for`` sets the certificate's remaining life."""
    ca = trustme.CA()
    not_after = None
    if valid_for is not None:
        not_after = datetime.datetime.now(datetime.UTC) + valid_for
    server_cert = ca.issue_cert(*_HOSTS, not_after=not_after)
    ca_file = directory / f"{name}.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return TlsMaterial(ca, server_cert, ca_file)
