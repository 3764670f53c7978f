from __future__ import annotations

import pkgutil
from collections.abc import Iterator

import pytest

import nyxmon.notify
from nyxmon.domain.alerting.types import Route, TelegramTarget
from nyxmon.errors import NotificationError
from nyxmon.notify import PROVIDERS, ProviderContext, build_providers, provider_for
from nyxmon.notify.apprise_provider import AppriseProvider, apprise_url_problem
from nyxmon.notify.base import Provider
from nyxmon.notify.telegram import TelegramProvider
from nyxmon.notify.webhook import WebhookProvider
from nyxmon.runtime import OffloadPool

PROVIDER_MODULES = {"apprise_provider": "apprise", "telegram": "telegram", "webhook": "webhook"}


@pytest.fixture
def context() -> Iterator[ProviderContext]:
    pool = OffloadPool("test-notify", workers=1)
    yield ProviderContext(pool=pool)
    pool.shutdown()


def test_every_provider_module_is_registered_under_its_kind() -> None:
    modules = {m.name for m in pkgutil.iter_modules(nyxmon.notify.__path__)}
    providers = {
        name for name in modules if name.endswith("_provider") or name in ("webhook", "telegram")
    }
    assert providers == set(PROVIDER_MODULES)
    assert set(PROVIDERS) == set(PROVIDER_MODULES.values())


def test_the_registry_builds_the_provider_for_each_kind(context: ProviderContext) -> None:
    hook = Route("hook", "webhook", webhook_url="http://127.0.0.1:9/x")
    bot = Route("bot", "telegram", telegram=TelegramTarget("1:abc", "5"))
    chat = Route("chat", "apprise", urls=("json://127.0.0.1:9/x",))
    providers = build_providers([hook, chat, bot], context)
    assert isinstance(providers["bot"], TelegramProvider)
    assert isinstance(providers["hook"], WebhookProvider)
    assert isinstance(providers["chat"], AppriseProvider)
    assert all(isinstance(p, Provider) for p in providers.values())
    assert providers["hook"].route is hook


@pytest.mark.parametrize(
    ("route", "message"),
    [
        pytest.param(
            Route("r", "pigeon"),
            "unknown kind 'pigeon'; known kinds: apprise, telegram, webhook",
            id="kind",
        ),
        pytest.param(Route("r", "webhook"), "needs webhook_url", id="webhook-without-url"),
        pytest.param(
            Route("r", "webhook", webhook_url="ftp://x/"), "must be an http", id="webhook-ftp"
        ),
        pytest.param(Route("r", "apprise"), "needs urls", id="apprise-without-urls"),
        pytest.param(Route("r", "telegram"), "needs bot_token and chat_id", id="telegram-bare"),
        pytest.param(
            Route("r", "telegram", telegram=TelegramTarget("1:abc", "5", api_url="ftp://x/")),
            "api_url 'ftp://\\*\\*\\*' must be an http",
            id="telegram-ftp-api",
        ),
        pytest.param(
            Route("r", "apprise", urls=("json://127.0.0.1/", "nope://x")),
            r"urls\[1\] is not a URL Apprise can use",
            id="apprise-bad-url",
        ),
    ],
)
def test_a_bad_route_is_refused_by_name(
    route: Route, message: str, context: ProviderContext
) -> None:
    with pytest.raises(NotificationError, match=message) as caught:
        provider_for(route, context)
    assert "route 'r'" in str(caught.value)


def test_route_names_must_be_unique(context: ProviderContext) -> None:
    hook = Route("same", "webhook", webhook_url="http://127.0.0.1:9/x")
    with pytest.raises(NotificationError, match="'same' is defined twice"):
        build_providers([hook, hook], context)


def test_apprise_url_problem_explains_an_unknown_scheme() -> None:
    assert apprise_url_problem("json://127.0.0.1:9/x") is None
    problem = apprise_url_problem("nope://x")
    assert problem is not None
    assert "nope://x" in problem


def test_every_notice_kind_has_an_apprise_notification_type() -> None:
    from nyxmon.domain.alerting.types import NoticeKind
    from nyxmon.notify.apprise_provider import _NOTIFY_TYPE

    assert set(_NOTIFY_TYPE) == set(NoticeKind)
