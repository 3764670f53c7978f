"""aiomysql and PyMySQL without ``cryptography`` until a login needs it.

PyMySQL imports ``cryptography`` (when installed) at import time for one job: RSA-encrypting
the password of a ``caching_sha2_password`` or ``sha256_password`` login over a connection
without TLS. That import cost every agent with a mysql check about 10 MB of RSS although most
logins (MariaDB's ``mysql_native_password``, any login over TLS, MySQL 8's cached logins) never
use it. So PyMySQL is imported with ``cryptography`` hidden, and its ``sha2_rsa_encrypt``
imports ``cryptography`` the first time a login needs it, then does what PyMySQL's does.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

__all__ = ["aiomysql", "pymysql"]


def _import_without_cryptography() -> None:
    if "pymysql" in sys.modules or "cryptography" in sys.modules:
        return  # already imported either way: nothing left to save
    sys.modules["cryptography"] = None  # type: ignore[assignment]  # an ImportError for now
    try:
        auth: Any = importlib.import_module("pymysql._auth")
    finally:
        del sys.modules["cryptography"]
    if auth._have_cryptography:
        return
    original = auth.sha2_rsa_encrypt

    def sha2_rsa_encrypt(password: bytes, salt: bytes, public_key: bytes) -> bytes:
        try:
            from cryptography.hazmat.backends import default_backend
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import padding
        except ImportError:
            pass  # PyMySQL's own function says what is missing
        else:
            auth.default_backend = default_backend
            auth.hashes, auth.serialization, auth.padding = hashes, serialization, padding
            auth._have_cryptography = True
        result: bytes = original(password, salt, public_key)
        return result

    auth.sha2_rsa_encrypt = sha2_rsa_encrypt


_import_without_cryptography()

import aiomysql  # noqa: E402
import pymysql  # noqa: E402
