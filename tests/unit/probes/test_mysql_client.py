"""The mysql probe's PyMySQL loads ``cryptography`` only for a login that RSA-encrypts the
password, and that encryption still works (checked by decrypting it with the private key)."""

from __future__ import annotations

import json
import subprocess
import sys

_PROGRAM = """
import json, sys
import nyxmon.probes.mysql
before = "cryptography" in sys.modules
import pymysql._auth
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
public = key.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
salt = b"0123456789abcdefghij"
sealed = pymysql._auth.sha2_rsa_encrypt(b"s3cret", salt, public)
oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
plain = key.decrypt(sealed, oaep)
expected = bytes(c ^ salt[i % len(salt)] for i, c in enumerate(b"s3cret\\0"))
print(json.dumps({"before": before, "round_trip": plain == expected}))
"""


def test_cryptography_waits_for_an_rsa_login_and_then_encrypts_as_pymysql_does() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROGRAM], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"before": False, "round_trip": True}
