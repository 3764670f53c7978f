"""What counts as a secret in a URL or in params, and that redaction removes all of it."""

from __future__ import annotations

import pytest

from nyxmon.domain.redaction import Redactor, mask_url, secrets_in_params, secrets_in_url


@pytest.mark.parametrize(
    ("url", "secret", "kept"),
    [
        pytest.param("tgram://123456:ABCDEF/987", "123456:ABCDEF", "tgram", id="apprise-host"),
        pytest.param("slack://TokenA/TokenB/TokenC/#chan", "TokenB", "slack", id="apprise-path"),
        pytest.param("https://u:pw1234@example.com/x", "pw1234", "example.com", id="userinfo"),
        pytest.param(
            "https://example.com/x?apikey=KEY98765", "KEY98765", "example.com", id="query"
        ),
        pytest.param(
            "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF1/abcDEF123ghiJKL456mnoPQR",
            "abcDEF123ghiJKL456mnoPQR",
            "hooks.slack.com",
            id="token-like-segment",
        ),
    ],
)
def test_secret_parts_of_a_url_are_found_and_the_url_is_masked(
    url: str, secret: str, kept: str
) -> None:
    assert secret in secrets_in_url(url)
    shown = mask_url(url)
    assert secret not in shown
    assert shown.startswith(kept) or kept in shown


def test_plain_parts_are_not_secrets() -> None:
    found = secrets_in_url("https://example.com/health/live")
    assert "example.com" not in found
    assert "health" not in found


def test_params_yield_passwords_tokens_auth_headers_and_url_credentials() -> None:
    found = secrets_in_params(
        {
            "url": "https://bob:hunter22@db.example/x",
            "basic_auth": {"username": "bob", "password": "s3cretpw"},
            "bearer_token": "tok_abcdef",
            "headers": {"Authorization": "Bearer abc123xyz", "Accept": "text/html"},
            "timeout": 5,
        }
    )
    assert {"hunter22", "s3cretpw", "tok_abcdef", "abc123xyz"} <= found
    assert "text/html" not in found


def test_the_redactor_removes_every_registered_secret_longest_first() -> None:
    redactor = Redactor()
    assert redactor.redact("nothing yet") == "nothing yet"
    redactor.register(["abcd", "abcd:efgh", "xy"])  # "xy" is too short to register
    text = "GET /botabcd:efgh/send failed for abcd (xy)"
    assert redactor.redact(text) == "GET /bot***/send failed for *** (xy)"
    assert len(redactor) == 2


def test_a_websocket_urls_host_is_not_a_secret_but_its_credentials_are() -> None:
    found = secrets_in_params({"url": "wss://bob:hunter22@feed.example:8443/live?key=k3yk3y"})
    assert {"hunter22", "k3yk3y"} <= found
    assert not {"feed.example", "feed.example:8443", "live"} & found
    assert mask_url("ws://127.0.0.1:9000/ws?token=abc") == "ws://127.0.0.1:9000/ws?***"


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        pytest.param(
            "https://glpat1234abcd5678efgh@git.example/hook",
            "glpat1234abcd5678efgh",
            id="token-as-user",
        ),
        pytest.param(
            "https://ghp0123456789abcdefXYZ:x@api.example/",
            "ghp0123456789abcdefXYZ",
            id="token-like-user",
        ),
        pytest.param("mailto://user:pw9876@mail.example", "user", id="apprise-user"),
    ],
)
def test_a_user_name_that_may_be_a_token_is_a_secret(url: str, secret: str) -> None:
    assert secret in secrets_in_url(url)


def test_a_plain_user_name_beside_a_password_is_not_a_secret_so_messages_stay_readable() -> None:
    found = secrets_in_url("https://user:hunter22@hooks.example/notify")
    assert "hunter22" in found
    assert "user" not in found
    redactor = Redactor()
    redactor.register(found)
    message = 'login refused: password authentication failed for user "postgres"'
    assert redactor.redact(message) == message
    assert "hunter22" not in mask_url("https://user:hunter22@hooks.example/notify")


def test_many_secrets_redact_as_one_longest_first_and_unrelated_text_stays() -> None:
    import secrets as random_secrets

    redactor = Redactor()
    keys = [random_secrets.token_urlsafe(18) for _ in range(2_000)]
    for key in keys:  # one by one, as config loading registers them
        redactor.register([key])
    redactor.register(["user:password", "useruser", "abcd", "abcdef", "x" * 1_500])
    text = f"GET /bot{keys[7]}/send for useruser:password abcdefg abcdx {'x' * 1_500}! {keys[-1]}"
    assert redactor.redact(text) == "GET /bot***/send for ***:password ***g ***x ***! ***"
    plain = "http 127.0.0.1:8080/health: connection refused, status 503"
    assert redactor.redact(plain) == plain
    assert len(redactor) == 2_005
