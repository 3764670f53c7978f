"""The ``websocket`` check type's parameters: open a WebSocket, optionally send a message and
expect an answer (the probe: :mod:`nyxmon.probes.websocket`)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from yarl import URL

from nyxmon.checktypes.base import CheckType, SpecModel
from nyxmon.checktypes.endpoint import SlowAfter, slow_field

__all__ = ["WEBSOCKET", "WebsocketSpec"]


class WebsocketSpec(SpecModel):
    """Params of a ``websocket`` check."""

    url: str = Field(description="ws:// or wss:// URL to open")
    headers: dict[str, str] = Field(
        default_factory=dict, description="extra headers of the opening request"
    )
    send: str | None = Field(None, description="text message sent once the socket is open")
    expect: str | None = Field(
        None,
        description="text the first message received must contain; a message is awaited when "
        "send or expect is set, and conditions read it as [BODY]",
    )
    verify_tls: bool = Field(True, description="verify the server certificate and host name")
    ca_file: str | None = Field(
        None, description="PEM file of CAs to trust instead of the system's"
    )
    max_response_time: SlowAfter = slow_field()

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        try:
            url = URL(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a URL: {exc}") from None
        if url.scheme not in ("ws", "wss"):
            raise ValueError("must start with ws:// or wss://")
        if not url.host:
            raise ValueError("has no host")
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, header in value.items():
            if not name.strip() or any(c in name for c in " :\r\n"):
                raise ValueError(f"{name!r} is not a header name")
            if "\r" in header or "\n" in header:
                raise ValueError(f"header {name!r} contains a line break")
        return value

    @model_validator(mode="after")
    def _check_tls(self) -> WebsocketSpec:
        if self.ca_file is not None and not self.verify_tls:
            raise ValueError("ca_file has no effect with verify_tls: false")
        return self

    def awaits_message(self) -> bool:
        return self.send is not None or self.expect is not None


WEBSOCKET = CheckType(
    name="websocket",
    params=WebsocketSpec,
    observes=frozenset({"CONNECTED", "RESPONSE_TIME", "BODY", "BODY_SIZE"}),
    executor="nyxmon.probes.websocket:create_executor",
    summary="a WebSocket: open it, optionally send a message and expect an answer ([BODY])",
)
