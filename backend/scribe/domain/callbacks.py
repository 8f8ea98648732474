"""Job callbacks: the webhook a job with a ``callback_url`` gets when it ends, kept in an outbox
until a receiver answers 2xx (at-least-once delivery; ``webhook_id`` lets receivers drop
duplicates)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


def new_webhook_id() -> str:
    """``msg_`` and 32 hex digits: the Standard Webhooks ``webhook-id``, fixed for one event."""
    return f"msg_{uuid.uuid4().hex}"


def callback_event_type(status: str) -> str:
    """``audio.job.completed`` / ``.failed`` / ``.cancelled``."""
    return f"audio.job.{status}"


class CallbackStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last attempt, or the receiver refused it for good


@dataclass(frozen=True)
class JobCallback:
    """Where a job's callback stands, as the job shows it."""

    url: str
    status: CallbackStatus
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class DueCallback:
    """One callback claimed for delivery: the event (fixed: a re-send is the same message) and
    how many attempts it has had, this one included."""

    webhook_id: str
    job_id: str
    url: str
    event_type: str
    payload: Mapping[str, Any]
    created_at: datetime
    attempts: int


@dataclass(frozen=True)
class SendOutcome:
    """What one delivery attempt came to: ``ok`` on a 2xx answer; otherwise why, whether a
    later attempt may succeed, and how long the receiver asked to wait (Retry-After)."""

    ok: bool
    error: str | None = None
    retryable: bool = True
    retry_after: float | None = None
