from __future__ import annotations

from datetime import datetime
from typing import Protocol

from scribe.domain.callbacks import DueCallback


class CallbackOutbox(Protocol):
    """Job callbacks waiting to be delivered (the job store writes them when a job ends).

    Any number of processes may deliver: ``claim`` leases callbacks to one ``holder`` until the
    lease ends, and the other calls change a callback only while its holder still holds it.
    """

    def claim(
        self, holder: str, now: datetime, *, lease_seconds: float, limit: int
    ) -> list[DueCallback]:
        """Lease up to ``limit`` pending callbacks that are due (``next attempt <= now``) and not
        leased (or whose lease ended) to ``holder``, counting the attempt; oldest due first."""
        ...

    def delivered(self, webhook_id: str, holder: str, now: datetime) -> bool:
        """Mark it delivered; False when ``holder`` no longer holds it."""
        ...

    def retry(self, webhook_id: str, holder: str, error: str, at: datetime) -> bool:
        """Release it with ``error``, due again at ``at``; False when ``holder`` lost it."""
        ...

    def give_up(self, webhook_id: str, holder: str, error: str) -> bool:
        """Mark it failed for good with ``error``; False when ``holder`` lost it."""
        ...
