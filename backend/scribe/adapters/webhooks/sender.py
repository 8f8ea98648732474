"""``StandardWebhookSender``: job callbacks signed per Standard Webhooks, sent with httpx.

Each event is one JSON body ``{"type", "timestamp", "data"}`` with a unique ``webhook-id``
(``msg_...``, the same on every retry so receivers can drop duplicates), a ``webhook-timestamp``
of the attempt, and ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``:
during a secret rotation's overlap, one such entry per valid secret, space-separated (the spec's
form: a receiver verifying with either secret accepts it). Each attempt, a re-send included, is
signed with the secrets valid when it is made.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx
from standardwebhooks import Webhook

from scribe import __version__
from scribe.domain.callbacks import SendOutcome
from scribe.domain.errors import InvalidRequest, ScribeError

from .url_guard import (
    IPAddress,
    Resolver,
    addresses_of,
    check_addresses,
    check_url,
    parse_url,
    system_resolver,
)

if TYPE_CHECKING:
    from scribe.config import Settings

log = logging.getLogger("scribe.webhooks")

# Retried: the receiver is down, overloaded or timed out. Any other 4xx (and a redirect, which
# is not followed) is the receiver saying no: retrying would get the same answer.
_RETRY_STATUSES = frozenset({408, 429})


class _Permanent(Exception):
    """An attempt failed in a way that another attempt would not change."""


class _Transient(Exception):
    """An attempt failed in a way that a later attempt may not; ``retry_after`` from the receiver."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StandardWebhookSender:
    """The ``WebhookSender`` port: checks callback URLs, signs and sends one attempt at an event
    (the outbox, ``CallbackDelivery``, retries)."""

    def __init__(
        self,
        secret: str | Callable[[], str | Sequence[str]],
        *,
        allow_private: bool = False,
        timeout_seconds: float = 10.0,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # A callable is asked at each attempt for the secrets valid then, current first (the
        # secret kept in the database, which a rotation changes: see ``secret``).
        self._secrets = secret if callable(secret) else None
        self._fixed = [Webhook(secret)] if isinstance(secret, str) else None
        self._allow_private = allow_private
        self._timeout = timeout_seconds
        self._resolver = resolver
        self._transport = transport  # tests: an httpx.MockTransport
        self._tls: ssl.SSLContext | None = None

    def _tls_context(self) -> ssl.SSLContext:
        """One TLS context for every client: making one loads the CA bundle (about 18 ms of CPU,
        most of a local delivery's cost when each attempt made its own)."""
        if self._tls is None:
            self._tls = httpx.create_ssl_context(trust_env=False)
        return self._tls

    def _signers(self) -> list[Webhook]:
        """One ``Webhook`` per secret valid now (may read the database: call it in a thread)."""
        assert self._secrets is not None
        secrets = self._secrets()
        if isinstance(secrets, str):
            secrets = [secrets]
        return [Webhook(s) for s in secrets]  # a base64 decode each: not worth caching

    async def _signers_or_reason(self, where: str) -> list[Webhook] | str:
        """The signers; else why there are none (the database is down, its secret or the data
        directory's file of before unreadable), logged: nothing is sent unsigned."""
        if self._fixed is not None:
            return self._fixed
        try:
            return await asyncio.to_thread(self._signers)
        except Exception as exc:
            reason = exc.message if isinstance(exc, ScribeError) else _short(exc)
            log.error("%s not sent: no signing secret (%s)", where, reason)
            return f"no signing secret: {reason}"

    @classmethod
    def from_settings(
        cls, settings: Settings, secret: str | Callable[[], str | Sequence[str]]
    ) -> StandardWebhookSender:
        """The sender the settings describe, signing with ``secret`` (or what it returns)."""
        return cls(
            secret,
            allow_private=settings.callback_allow_private,
            timeout_seconds=settings.webhook_timeout_seconds,
        )

    def check_url(self, url: str) -> None:
        """Raise ``InvalidRequest`` (param ``callback_url``) unless the URL may be called.

        Resolves the host name with the system resolver, which blocks: call it from a worker
        thread (a sync route), not on the event loop.
        """
        check_url(url, allow_private=self._allow_private, resolver=self._resolver)

    async def send(
        self,
        url: str,
        event_type: str,
        data: Mapping[str, Any],
        *,
        webhook_id: str,
        timestamp: datetime,
    ) -> SendOutcome:
        """One attempt (the outbox retries), with the event's fixed id and timestamp."""
        where = f"webhook {webhook_id} ({event_type}) to {_shown(url)}"
        try:
            target = parse_url(url)
            body = _body(event_type, _iso(timestamp), data)
        except (InvalidRequest, TypeError, ValueError) as exc:
            log.error("%s not sent: %s", where, exc)
            return SendOutcome(False, str(exc), retryable=False)
        signers = await self._signers_or_reason(where)
        if isinstance(signers, str):  # a later attempt may find it (the database is back)
            return SendOutcome(False, signers)
        timeout = self._timeout
        try:
            async with httpx.AsyncClient(
                transport=self._transport,
                follow_redirects=False,
                trust_env=False,  # a proxy from the environment would bypass the address checks
                timeout=timeout,
                verify=self._tls_context(),
            ) as client:
                async with asyncio.timeout(timeout):
                    status = await self._attempt(client, target, webhook_id, body, signers)
        except _Permanent as exc:
            log.error("%s: failed, not retried: %s", where, exc)
            return SendOutcome(False, str(exc), retryable=False)
        except _Transient as exc:
            log.warning("%s: failed (%s)", where, exc)
            return SendOutcome(False, str(exc), retry_after=exc.retry_after)
        except (httpx.HTTPError, OSError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            log.warning("%s: failed (%s)", where, reason)
            return SendOutcome(False, reason)
        except Exception as exc:  # a bug must not stop the deliverer
            log.exception("%s: unexpected error", where)
            return SendOutcome(False, f"unexpected error: {type(exc).__name__}")
        log.info("%s: delivered (HTTP %d)", where, status)
        return SendOutcome(True)

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        url: httpx.URL,
        msg_id: str,
        body: str,
        signers: Sequence[Webhook],
    ) -> int:
        """One attempt: resolve and check the host again, then POST to an address just checked
        (not to the name, which could resolve elsewhere by the time httpx connects)."""
        try:
            addresses = await asyncio.to_thread(addresses_of, url, self._resolver)
        except InvalidRequest as exc:  # DNS failed: it may answer next time
            raise _Transient(exc.message) from None
        try:
            check_addresses(addresses, self._allow_private)
        except InvalidRequest as exc:
            raise _Permanent(exc.message) from None
        now = int(time.time())
        signed_at = datetime.fromtimestamp(now, UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": f"scribe/{__version__} (webhooks)",
            "webhook-id": msg_id,
            "webhook-timestamp": str(now),
            "webhook-signature": " ".join(w.sign(msg_id, signed_at, body) for w in signers),
        }
        content = body.encode("utf-8")
        response = await _post_first_reachable(client, url, addresses, headers, content)
        status = response.status_code
        if 200 <= status < 300:
            return status
        if 300 <= status < 400:
            raise _Permanent(f"HTTP {status}: redirects are not followed")
        if status >= 500 or status in _RETRY_STATUSES:
            raise _Transient(f"HTTP {status}", _retry_after(response.headers.get("retry-after")))
        raise _Permanent(f"HTTP {status}")


async def _post_first_reachable(
    client: httpx.AsyncClient,
    url: httpx.URL,
    addresses: Sequence[IPAddress],
    headers: dict[str, str],
    content: bytes,
) -> httpx.Response:
    """POST to each address in turn until one accepts the connection (a host with an IPv6
    address but no IPv6 route still works over IPv4)."""
    for index, address in enumerate(addresses):
        request = pinned_request(client, url, address, headers, content)
        try:
            response = await client.send(request, stream=True)
        except httpx.ConnectError:
            if index == len(addresses) - 1:
                raise
            continue
        await response.aclose()  # the answer's body is not needed, and may be large
        return response
    raise httpx.ConnectError(f"no address to connect to for {url.host}")


def pinned_request(
    client: httpx.AsyncClient,
    url: httpx.URL,
    address: IPAddress,
    headers: Mapping[str, str],
    content: bytes,
) -> httpx.Request:
    """A POST to ``address`` that the receiver sees as one to ``url``: the Host header, and for
    https the TLS server name (SNI and certificate check), stay the URL's host name."""
    extensions: dict[str, Any] = {}
    if url.scheme == "https":
        extensions["sni_hostname"] = url.raw_host.decode("ascii")
    return client.build_request(
        "POST",
        url.copy_with(host=str(address)),
        headers={**headers, "host": url.netloc.decode("ascii")},
        content=content,
        extensions=extensions,
    )


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number of seconds or an HTTP date), None if absent."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _short(exc: Exception) -> str:
    """A database error's first line from its driver: not SQLAlchemy's text, which shows the
    statement's parameters (a secret being inserted). It is the callback's ``last_error``."""
    original = getattr(exc, "orig", None)
    first = str(original).strip().splitlines()[0][:200] if original is not None else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _body(event_type: str, timestamp: str, data: Mapping[str, Any]) -> str:
    return json.dumps(
        {"type": event_type, "timestamp": timestamp, "data": dict(data)},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _shown(url: str) -> str:
    """The URL for logs: no credentials and no query string (either may hold a token)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "an invalid URL"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"
