"""libcurl's errors as the http probe words them: one line, the target named, the reason kept."""

from __future__ import annotations

import errno
from pathlib import Path

import pycurl
import pytest

from nyxmon.domain.model import Outcome
from nyxmon.probes.http_client import CLIENT_CLOSED
from nyxmon.probes.http_failures import Failure, describe_failure


def describe(
    code: int,
    message: str,
    url: str = "https://example.test/x",
    *,
    os_errno: int = 0,
    ca_file: str | None = None,
) -> Failure:
    return describe_failure(
        code,
        message,
        url=url,
        stage="waiting for the response",
        os_errno=os_errno,
        ca_file=ca_file,
        timeout=2.5,
    )


@pytest.mark.parametrize(
    ("code", "message", "url", "os_errno", "expected"),
    [
        pytest.param(
            pycurl.E_COULDNT_CONNECT,
            "Failed to connect to 127.0.0.1 port 8080 after 0 ms: Could not connect to server",
            "http://127.0.0.1:8080/",
            errno.ECONNREFUSED,
            "cannot connect to 127.0.0.1:8080: Connection refused",
            id="refused",
        ),
        pytest.param(
            pycurl.E_COULDNT_CONNECT,
            "Failed to connect to ::1 port 80: Could not connect to server",
            "http://[::1]/",
            0,
            "cannot connect to [::1]:80: Failed to connect to ::1 port 80: "
            "Could not connect to server",
            id="ipv6-without-errno",
        ),
        pytest.param(
            pycurl.E_COULDNT_RESOLVE_HOST,
            "Could not resolve host: example.test",
            "https://example.test/x",
            0,
            "cannot resolve example.test",
            id="dns",
        ),
        pytest.param(
            pycurl.E_PEER_FAILED_VERIFICATION,
            "SSL certificate OpenSSL verify result: certificate has expired (10)",
            "https://example.test/x",
            0,
            "TLS certificate of example.test:443 rejected: certificate has expired",
            id="expired",
        ),
        pytest.param(
            pycurl.E_PEER_FAILED_VERIFICATION,
            "SSL: no alternative certificate subject name matches target hostname 'a.test'",
            "https://a.test:8443/",
            0,
            "TLS certificate of a.test:8443 rejected: "
            "no alternative certificate subject name matches target hostname 'a.test'",
            id="wrong-name",
        ),
        pytest.param(
            pycurl.E_SSL_CONNECT_ERROR,
            "TLS connect error: error:0A00010B:SSL routines::wrong version number",
            "https://example.test/x",
            0,
            "TLS handshake with example.test:443 failed: "
            "error:0A00010B:SSL routines::wrong version number",
            id="handshake",
        ),
        pytest.param(
            pycurl.E_GOT_NOTHING,
            "Empty reply from server",
            "http://example.test/",
            0,
            "example.test:80 closed the connection without answering",
            id="empty-reply",
        ),
        pytest.param(
            pycurl.E_RECV_ERROR,
            "Recv failure: Connection reset by peer",
            "http://example.test/",
            errno.ECONNRESET,
            "connection to example.test:80 broken while waiting for the response: "
            "Connection reset by peer",
            id="reset",
        ),
        pytest.param(
            pycurl.E_PARTIAL_FILE,
            "end of response with 10 bytes missing",
            "http://example.test/",
            0,
            "malformed response body from example.test:80: end of response with 10 bytes missing",
            id="short-body",
        ),
        pytest.param(
            pycurl.E_TOO_MANY_REDIRECTS if hasattr(pycurl, "E_TOO_MANY_REDIRECTS") else 47,
            "Maximum (3) redirects followed",
            "http://example.test/",
            0,
            "request to example.test:80 failed: Maximum (3) redirects followed (libcurl error 47)",
            id="anything-else",
        ),
        pytest.param(
            CLIENT_CLOSED,
            "the HTTP client closed during the request",
            "http://example.test/",
            0,
            "the HTTP client closed during the request",
            id="closed",
        ),
    ],
)
def test_errors_name_the_target_and_the_reason(
    code: int, message: str, url: str, os_errno: int, expected: str
) -> None:
    assert describe(code, message, url, os_errno=os_errno) == Failure(Outcome.ERROR, expected)


def test_libcurls_timeout_is_a_timeout_naming_the_stage() -> None:
    failure = describe(pycurl.E_OPERATION_TIMEDOUT, "Operation timed out after 2500 ms")
    assert failure == Failure(
        Outcome.TIMEOUT, "no response within 2.5 s (while waiting for the response)"
    )


def test_an_unreadable_ca_file_says_why(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.pem")
    failure = describe(pycurl.E_SSL_CACERT_BADFILE, "error adding trust anchors", ca_file=missing)
    assert failure.message == f"cannot load ca_file {missing!r}: No such file or directory"
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("hello")
    failure = describe(pycurl.E_SSL_CACERT_BADFILE, "error adding trust", ca_file=str(not_pem))
    assert failure.message == (
        f"cannot load ca_file {str(not_pem)!r}: no usable CA certificate in it (error adding trust)"
    )
    system = describe(pycurl.E_SSL_CACERT_BADFILE, "error setting certificate file: /x")
    assert system.message == "cannot load the system CA bundle: error setting certificate file: /x"
