"""One upstream call's outcome, as the lookup service, its cache codec and the page see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from app.capillary import CapillaryError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """One upstream call's result: a value or the error that took its place.

    A last-known outcome (app/lookup/last_known.py) holds the value of an earlier call, its
    fetched_at when that call was made, and in stale_because the error of the call just
    made; it is never cached as a fresh one.
    """

    value: T | None
    error: CapillaryError | None
    fetched_at: datetime
    stale_because: CapillaryError | None = None

    @property
    def ok(self) -> bool:
        """Whether there is a value to show (fresh, or last known)."""
        return self.error is None

    @property
    def stale(self) -> bool:
        """Whether the value is last known: this call failed now, an earlier one did not."""
        return self.stale_because is not None
