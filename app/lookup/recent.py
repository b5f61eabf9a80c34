"""Recent lookups: the last members each staff member opened, kept on the server.

Only the member id and the view's parameters are stored: never an identifier the staff member
typed, so the list can be shown anywhere without masking.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db
from app.lookup.page import scope_label
from app.lookup.scope import ALL, DEFAULT, LookupParams

logger = logging.getLogger(__name__)

KEEP = 10


class RecentLookup(db.Model):
    """One member a staff member opened, with the scope and dates of the latest visit."""

    __tablename__ = "recent_lookup"
    __table_args__ = (UniqueConstraint("staff_username", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The user name, not a row id: staff signed in by the SSO proxy have no row.
    staff_username: Mapped[str] = mapped_column(String(128), index=True)
    member_id: Mapped[int] = mapped_column(BigInteger)
    program: Mapped[str] = mapped_column(String(32))  # a program id, "all" or "default"
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @property
    def params(self) -> LookupParams:
        """The view's parameters, as the deep link carries them."""
        program: int | str = self.program if self.program in (ALL, DEFAULT) else int(self.program)
        return LookupParams(program, self.start_date, self.end_date)


@dataclass(frozen=True, slots=True)
class RecentItem:
    """One line of the recent-lookups list."""

    member_id: int
    params: LookupParams
    scope_label: str
    opened_at: datetime


def remember(username: str, member_id: int, params: LookupParams) -> None:
    """Record that the staff member opened this member; keep only their latest KEEP."""
    try:
        row = db.session.scalar(
            select(RecentLookup).filter_by(staff_username=username, member_id=member_id)
        )
        added = row is None
        if row is None:
            row = RecentLookup(staff_username=username, member_id=member_id)
            db.session.add(row)
        row.program = str(params.program)
        row.start_date = params.start_date
        row.end_date = params.end_date
        row.opened_at = utcnow()
        if not added:
            # Reopening a member listed already cannot push another one out.
            db.session.commit()
            return
        db.session.flush()
        keep = (
            select(RecentLookup.id)
            .filter_by(staff_username=username)
            .order_by(RecentLookup.opened_at.desc(), RecentLookup.id.desc())
            .limit(KEEP)
        )
        db.session.execute(
            delete(RecentLookup)
            .where(RecentLookup.staff_username == username)
            .where(RecentLookup.id.not_in(keep.scalar_subquery()))
        )
        db.session.commit()
    except IntegrityError:
        # The same staff member opened the same member twice at once (two tabs): the other
        # request has recorded it.
        db.session.rollback()
    except SQLAlchemyError:
        # A convenience list must never cost the member page.
        db.session.rollback()
        logger.exception("Could not record a recent lookup")


def recent_for(username: str, programs: Mapping[int, str]) -> list[RecentItem]:
    """The staff member's recent lookups, newest first."""
    rows = db.session.scalars(
        select(RecentLookup)
        .filter_by(staff_username=username)
        .order_by(RecentLookup.opened_at.desc(), RecentLookup.id.desc())
        .limit(KEEP)
    )
    return [
        RecentItem(row.member_id, row.params, scope_label(row.params, programs), row.opened_at)
        for row in rows
    ]
