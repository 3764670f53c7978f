"""What an HTTP probe says when its request fails below HTTP: one line naming the target.

libcurl's own messages are accurate but written for curl's users ("Failed to connect to
127.0.0.1 port 8080 after 0 ms: Could not connect to server"); a monitor's reader wants the
host, the port and the reason, worded the same way whatever the library underneath. The OS
error behind a failed connect comes from ``CURLINFO_OS_ERRNO``, the TLS verification reason from
the message libcurl got from OpenSSL.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pycurl

from nyxmon.domain.model import Outcome
from nyxmon.probes.http_client import CLIENT_CLOSED

__all__ = ["Failure", "describe_failure", "timeout_message"]

# "SSL certificate OpenSSL verify result: unable to get local issuer certificate (20)",
# "SSL certificate problem: certificate has expired", "SSL: no alternative certificate ..."
_VERIFY_REASON = re.compile(
    r"^(?:SSL certificate (?:OpenSSL verify result|problem): |SSL: )?(?P<reason>.*?)(?: \(\d+\))?$"
)
# "TLS connect error: error:0A00010B:SSL routines::wrong version number",
# "OpenSSL/3.6.5: error:0A000126:SSL routines::unexpected eof while reading"
_TLS_LIBRARY = re.compile(
    r"^(?:(?:OpenSSL|BoringSSL|LibreSSL|GnuTLS|wolfSSL)[/\d.]*: )?(?:TLS connect error: )?"
)

_TLS_ERRORS = frozenset(
    {
        pycurl.E_SSL_CONNECT_ERROR,
        pycurl.E_SSL_CERTPROBLEM,
        pycurl.E_SSL_CIPHER,
        pycurl.E_SSL_ISSUER_ERROR,
        pycurl.E_SSL_PINNEDPUBKEYNOTMATCH,
        pycurl.E_SSL_INVALIDCERTSTATUS,
        pycurl.E_USE_SSL_FAILED,
    }
)
_BROKEN_BODY = frozenset({pycurl.E_PARTIAL_FILE, pycurl.E_BAD_CONTENT_ENCODING})
#: CURLE_WEIRD_SERVER_REPLY, which pycurl still calls by its old name E_FTP_WEIRD_SERVER_REPLY.
_WEIRD_SERVER_REPLY = 8


@dataclass(frozen=True, slots=True)
class Failure:
    """The outcome and one-line message of a run whose request did not get its answer."""

    outcome: Outcome
    message: str

    @classmethod
    def error(cls, message: str) -> Failure:
        return cls(Outcome.ERROR, message)

    @classmethod
    def fail(cls, message: str) -> Failure:
        return cls(Outcome.FAIL, message)


def timeout_message(timeout: float, stage: str) -> str:
    """The timeout result's message, the same whether libcurl's timer or the executor's fired."""
    return f"no response within {timeout:g} s (while {stage})"


def describe_failure(
    code: int,
    message: str,
    *,
    url: str,
    stage: str,
    os_errno: int,
    ca_file: str | None,
    timeout: float,
) -> Failure:
    """The failure of a transfer to ``url`` that libcurl ended with ``code`` and ``message``.

    ``stage`` is where the request was (for timeouts and broken connections), ``os_errno`` the
    OS error libcurl saw last (0 if none), ``ca_file`` the check's own CA file.
    """
    target = _host_port(url)
    if code == CLIENT_CLOSED:
        return Failure.error(message)
    if code == pycurl.E_OPERATION_TIMEDOUT:
        return Failure(Outcome.TIMEOUT, timeout_message(timeout, stage))
    if code == pycurl.E_COULDNT_RESOLVE_HOST:
        return Failure.error(f"cannot resolve {urlsplit(url).hostname}")
    if code == pycurl.E_COULDNT_CONNECT:
        return Failure.error(f"cannot connect to {target}: {_os_reason(os_errno, message)}")
    if code == pycurl.E_PEER_FAILED_VERIFICATION:
        match = _VERIFY_REASON.match(message)
        reason = match.group("reason") if match else message
        return Failure.error(f"TLS certificate of {target} rejected: {reason}")
    if code == pycurl.E_SSL_CACERT_BADFILE:
        if ca_file is None:
            return Failure.error(f"cannot load the system CA bundle: {message}")
        return Failure.error(f"cannot load ca_file {ca_file!r}: {_file_problem(ca_file, message)}")
    if code in _TLS_ERRORS:
        return Failure.error(f"TLS handshake with {target} failed: {_TLS_LIBRARY.sub('', message)}")
    if code == pycurl.E_GOT_NOTHING:
        return Failure.error(f"{target} closed the connection without answering")
    if code in (pycurl.E_RECV_ERROR, pycurl.E_SEND_ERROR):
        reason = _os_reason(os_errno, _TLS_LIBRARY.sub("", message))
        return Failure.error(f"connection to {target} broken while {stage}: {reason}")
    if code == _WEIRD_SERVER_REPLY:
        return Failure.error(f"malformed response from {target}: {message}")
    if code in _BROKEN_BODY:
        return Failure.error(f"malformed response body from {target}: {message}")
    if code in (pycurl.E_URL_MALFORMAT, pycurl.E_UNSUPPORTED_PROTOCOL):
        return Failure.error(f"invalid URL {url!r}: {message}")
    return Failure.error(f"request to {target} failed: {message} (libcurl error {code})")


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port or (443 if parts.scheme.lower() == 'https' else 80)}"


def _os_reason(errno: int, fallback: str) -> str:
    """``Connection refused`` rather than libcurl's ``Could not connect to server``."""
    return os.strerror(errno) if errno else fallback


def _file_problem(path: str, fallback: str) -> str:
    """Why ``path`` cannot be read (``No such file or directory``), else libcurl's message."""
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return f"no usable CA certificate in it ({fallback})"
