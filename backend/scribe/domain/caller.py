"""Who is calling: the authenticated API key (or the anonymous caller when authentication is off)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .limits import RatePolicy

ANONYMOUS_KEY_ID = "anonymous"


class Scope(StrEnum):
    """What a key may do. ``admin`` may do everything ``transcribe`` may, and see all usage."""

    TRANSCRIBE = "transcribe"
    ADMIN = "admin"


@dataclass(frozen=True)
class Caller:
    """The owner of a request. ``key_id`` is stable: usage (and jobs) are recorded against it."""

    key_id: str
    name: str
    scope: Scope
    limits: RatePolicy = field(default_factory=RatePolicy)

    @property
    def is_admin(self) -> bool:
        return self.scope is Scope.ADMIN

    @property
    def anonymous(self) -> bool:
        return self.key_id == ANONYMOUS_KEY_ID


def anonymous_caller(limits: RatePolicy) -> Caller:
    """The caller of every request while authentication is off: one client, with admin rights
    (whoever reaches an open server may as well read its usage) and the default limits."""
    return Caller(key_id=ANONYMOUS_KEY_ID, name="anonymous", scope=Scope.ADMIN, limits=limits)
