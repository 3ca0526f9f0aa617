"""Counters of the operations statistics (运行统计), kept in the transaction of each event.

One row per (Beijing day, Beijing hour, office, measure, metric). The audit writer adds one to
the rows an event counts for in the same transaction as the event itself, so a change that
rolls back takes its counts with it, and the dashboard reads a few thousand indexed rows instead
of scanning the audit log.
"""

import datetime as dt

from peewee import SQL, CharField, DateField, IntegerField, Select, SmallIntegerField, Value, fn

from .base import BaseModel, compiled_execute, compiled_scalar
from .evidence import AccidentCase, EvidenceItem
from .licence import LicenceRecord
from .people import Office
from .vehicles import Vehicle


class StatCounter(BaseModel):
    """How many times `measure`/`metric` happened in one hour of one day, at one office."""

    day = DateField()  # Beijing calendar day
    hour = SmallIntegerField()  # Beijing hour, 0-23
    office = CharField(max_length=16, default="")  # office code; '' when the event has none
    measure = CharField(max_length=20)
    metric = CharField(max_length=20)
    count = IntegerField(default=0)

    class Meta:
        # The unique key is also the index every dashboard query reads (day range first).
        indexes = ((("day", "hour", "office", "measure", "metric"), True),)

    @classmethod
    def add(cls, day: dt.date, hour: int, office: str, pairs) -> None:
        """Add one to each (measure, metric) counter of that hour at `office`, atomically.

        INSERT ... ON CONFLICT DO UPDATE: two transactions counting the same hour never lose a
        count (on SQLite they are serialised by the write lock, on PostgreSQL by the unique
        index), and the caller's transaction decides whether the counts are kept.
        """
        for measure, metric in pairs:
            # Every counted event runs this: its SQL text is built once (compiled_sql).
            compiled_execute(
                "stat-counter-add",
                lambda: cls.insert(
                    day=dt.date(2000, 1, 1), hour=0, office="", measure="", metric="", count=1
                ).on_conflict(**cls._on_conflict()),
                day,
                hour,
                office,
                measure,
                metric,
                1,
                1,
            )

    @classmethod
    def add_by(cls, day: dt.date, hour: int, by: str, value, pairs) -> None:
        """As add(), at the office that the lookup `by` (a key of OFFICE_CODE_BY) finds for
        `value` ('' when none), looked up by the same statement.

        One statement instead of a lookup and an upsert: with the database on another machine
        each is a round trip, and every counted event (every licence check, every
        application) runs this.
        """
        for measure, metric in pairs:
            compiled_execute(
                f"stat-counter-add-by-{by}",
                lambda: cls._add_by_statement(by),
                day,
                hour,
                value,
                "",
                measure,
                metric,
                1,
                1,
            )

    @classmethod
    def _add_by_statement(cls, by: str):
        """add_by()'s upsert, with stand-in values: INSERT ... SELECT the hour's row, its office
        a scalar subquery of the lookup `by`, ON CONFLICT plus one."""
        row = Select(
            columns=[
                Value(dt.date(2000, 1, 1)),
                Value(0),
                fn.COALESCE(OFFICE_CODE_BY[by](), ""),
                Value(""),
                Value(""),
                Value(1),
            ]
        )
        # The WHERE is for SQLite, which would read `SELECT ... ON CONFLICT` as a join's ON.
        return cls.insert_from(
            row.where(SQL("1 = 1")),
            [cls.day, cls.hour, cls.office, cls.measure, cls.metric, cls.count],
        ).on_conflict(**cls._on_conflict())

    @classmethod
    def _on_conflict(cls) -> dict:
        """The upsert of a counter: the row of that hour, office, measure and metric plus one."""
        return {
            "conflict_target": [cls.day, cls.hour, cls.office, cls.measure, cls.metric],
            "update": {cls.count: cls.count + 1},
        }

    @classmethod
    def totals(cls, first: dt.date, last: dt.date, office: str | None = None, by=("day",)):
        """Sums over the Beijing days `first`..`last`, grouped by `by` (day, hour and/or office)
        and by measure and metric: a list of tuples (*by values, measure, metric, count)."""
        keys = [getattr(cls, name) for name in by]
        query = cls.select(*keys, cls.measure, cls.metric, fn.SUM(cls.count)).where(
            cls.day.between(first, last)
        )
        if office is not None:
            query = query.where(cls.office == office)
        return list(query.group_by(*keys, cls.measure, cls.metric).tuples())


# The lookup of an office's code, by what an event's object knows (core.stats decides which).
# Every counted event runs one: the SQL text of each is built once (compiled_sql), as building
# it costs more than running it.
OFFICE_CODE_BY = {
    "office": lambda: Office.select(Office.code).where(Office.id == 0),
    "record": lambda: Office.select(Office.code).join(LicenceRecord).where(LicenceRecord.id == 0),
    "licence-no": lambda: (
        Office.select(Office.code).join(LicenceRecord).where(LicenceRecord.licence_no == "")
    ),
    "vehicle": lambda: Office.select(Office.code).join(Vehicle).where(Vehicle.id == 0),
    "evidence-item": lambda: (
        Office.select(Office.code).join(AccidentCase).join(EvidenceItem).where(EvidenceItem.id == 0)
    ),
}


def office_code_by(by: str, value) -> str:
    """The code of the office that the lookup `by` (a key of OFFICE_CODE_BY) finds for `value`:
    the office itself, a licence record's or a vehicle's office, an evidence item's brigade;
    '' when none."""
    return compiled_scalar(f"office-code-by-{by}", OFFICE_CODE_BY[by], value) or ""
