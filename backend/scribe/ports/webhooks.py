from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from scribe.domain.callbacks import SendOutcome


class WebhookSender(Protocol):
    """Sends job callbacks (``callback_url``) signed as the Standard Webhooks spec says."""

    def check_url(self, url: str) -> None:
        """Raise ``InvalidRequest`` (param ``callback_url``) if this URL may not be called:
        not http(s), or a private, loopback or link-local address unless a setting allows it.
        Called when a job is submitted, so a bad URL is a 400 and not a silent failure later."""
        ...

    async def send(
        self,
        url: str,
        event_type: str,
        data: Mapping[str, Any],
        *,
        webhook_id: str,
        timestamp: datetime,
    ) -> SendOutcome:
        """One attempt at one event (the outbox retries): the body ``{"type", "timestamp",
        "data"}`` with the event's ``timestamp`` and the ``webhook-id`` given, so that every
        re-send is the same message. Never raises for delivery failures."""
        ...
