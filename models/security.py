"""Shared security state that must hold across processes and nodes: throttles, the count of
refused checks, and settings."""

import datetime as dt

from peewee import CharField, DateTimeField, IntegerField, TextField

from .base import BaseModel, compiled_get, db, for_update, utcnow


class Throttle(BaseModel):
    """Failed attempts against one key (an account, a licence, a client address) in a window."""

    key = CharField(max_length=120, primary_key=True)
    failures = IntegerField(default=0)
    window_start = DateTimeField(default=utcnow)
    locked_until = DateTimeField(null=True)

    @classmethod
    def locked_until_for(cls, key: str, now: dt.datetime | None = None, lock: bool = False):
        """The end of the lock on this key, or None when attempts are allowed.

        With lock=True (inside a write transaction) the row stays locked until the transaction
        ends, so concurrent attempts cannot all read "not locked" before any failure is counted.
        """
        now = now or utcnow()

        # Every check of a code and every login asks: the SQL text is built once. With lock,
        # inside a write transaction, the row stays locked (PostgreSQL) until it ends.
        def build():
            query = cls.select().where(cls.key == "")
            return for_update(query) if lock else query

        name = "throttle-by-key-locked" if lock else "throttle-by-key"
        row = compiled_get(cls, name, build, key)
        if row and row.locked_until and row.locked_until > now:
            return row.locked_until
        return None

    @classmethod
    def ensure(cls, *keys: str) -> None:
        """Make the keys' rows (no failures yet) where missing, in one statement, so that row
        locks can be taken on them: a lock on a row that does not exist yet holds nothing back."""
        now = utcnow()
        rows = [{"key": key, "failures": 0, "window_start": now} for key in keys]
        cls.insert_many(rows).on_conflict_ignore().execute()

    @classmethod
    def register_failure(
        cls, key: str, *, limit: int, window: int, lock: int | None = None
    ) -> dt.datetime | None:
        """Count one failure; returns the lock's end once `limit` failures fall in `window` s.

        `lock` is the lock's length in seconds from the failure that reaches the limit; None
        locks for the rest of the window. Runs as one transaction with the row locked, so
        failures from every process and node add up.
        """
        now = utcnow()
        with db.atomic():
            row = for_update(cls.select().where(cls.key == key)).first()
            if row is None:
                cls.insert(key=key, failures=0, window_start=now).on_conflict_ignore().execute()
                row = for_update(cls.select().where(cls.key == key)).first()
            if row.failures == 0 or row.window_start <= now - dt.timedelta(seconds=window):
                # A window begins at its first failure (a row made earlier by ensure(), as every
                # check of a licence does, would date the failures from a right code).
                row.failures, row.window_start, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= limit:
                if lock is None:
                    row.locked_until = row.window_start + dt.timedelta(seconds=window)
                else:
                    row.locked_until = now + dt.timedelta(seconds=lock)
            row.save()
            return row.locked_until if row.locked_until and row.locked_until > now else None

    @classmethod
    def register_delayed_failure(cls, key: str, *, window: int, delay) -> dt.datetime | None:
        """Count one failure and make its sender wait `delay(failures)` seconds (0: no wait);
        returns the end of the wait, if any.

        A progressive delay rather than a lock: whoever trips it only slows themselves down.
        The count and its window work as in register_failure (one row-locked transaction).
        """
        now = utcnow()
        with db.atomic():
            row = for_update(cls.select().where(cls.key == key)).first()
            if row is None:
                cls.insert(key=key, failures=0, window_start=now).on_conflict_ignore().execute()
                row = for_update(cls.select().where(cls.key == key)).first()
            if row.failures == 0 or row.window_start <= now - dt.timedelta(seconds=window):
                row.failures, row.window_start, row.locked_until = 0, now, None
            row.failures += 1
            seconds = delay(row.failures)
            row.locked_until = now + dt.timedelta(seconds=seconds) if seconds else None
            row.save()
            return row.locked_until

    @classmethod
    def recent_failures(cls, key: str, window: int, now: dt.datetime | None = None):
        """(failures, since) counted on this key in its current window, or (0, None)."""
        return cls.standing(key, window, now)[1:]

    @classmethod
    def standing(cls, key: str, window: int, now: dt.datetime | None = None):
        """(lock's end or None, failures, since) of this key from one read of its row: what
        locked_until_for and recent_failures answer, for a page that shows both (the holder's
        code page, on every refresh)."""
        now = now or utcnow()
        row = compiled_get(cls, "throttle-by-key", lambda: cls.select().where(cls.key == ""), key)
        if row is None:
            return None, 0, None
        locked_until = row.locked_until if row.locked_until and row.locked_until > now else None
        if row.window_start <= now - dt.timedelta(seconds=window):
            return locked_until, 0, None
        return locked_until, row.failures, row.window_start

    @classmethod
    def reset(cls, key: str) -> None:
        """Forget the failures of a key (after a success)."""
        cls.delete().where(cls.key == key).execute()

    @classmethod
    def prune(cls, now: dt.datetime | None = None, days: int = 7) -> int:
        """Delete the rows that count nothing any more: a window begun `days` ago (longer than
        any throttle's window) and no lock still running. Returns how many went."""
        now = now or utcnow()
        cutoff = now - dt.timedelta(days=days)
        ended = cls.locked_until.is_null() | (cls.locked_until < now)
        spent = (cls.window_start < cutoff) & ended
        return cls.delete().where(spent).execute()


# Refused checks are counted per window of this many seconds (aligned to the clock): one row per
# (thing checked, window), however many attempts a flood sends.
REFUSED_WINDOW = 600


class RefusedCheck(BaseModel):
    """Checks of one licence or truck pass refused by a throttle or lock in one window, counted.

    A refused attempt judges nothing and shows nothing, so it costs one upsert here instead of
    an audit row of its own: a flood against a locked licence cannot push real checks out of
    the holder's log. The first refusal of a window is audited as a check (the holder and the
    audit log see that refusals started); this row says how many followed and until when.
    """

    # licence | truck_pass | inbox (a stranger's envelopes refused, per client network) |
    # inbox_all (all strangers' refusals audited, object_id 0) | inbox_peer (a peer's refused
    # messages, per peer address digest): core.network.inbox.refuse | relay_undet (relayed
    # checks a peer left undetermined, per peer id): blueprints.licence.relay
    kind = CharField(max_length=12)
    object_id = IntegerField()  # the e-licence's or the truck pass's id; a network's digest
    window_start = DateTimeField()
    first_at = DateTimeField(default=utcnow)
    last_at = DateTimeField(default=utcnow)
    count = IntegerField(default=1)

    class Meta:
        table_name = "refused_check"
        indexes = ((("kind", "object_id", "window_start"), True),)

    @classmethod
    def count_one(cls, kind: str, object_id: int, now: dt.datetime | None = None) -> int:
        """Count one refused check in the current window (one statement: an upsert); returns
        the window's count so far, 1 for its first refusal. Run it in the check's transaction."""
        now = now or utcnow()
        epoch = int(now.replace(tzinfo=dt.UTC).timestamp())
        window_start = dt.datetime.fromtimestamp(epoch - epoch % REFUSED_WINDOW, dt.UTC)
        query = (
            cls.insert(
                kind=kind,
                object_id=object_id,
                window_start=window_start.replace(tzinfo=None),
                first_at=now,
                last_at=now,
                count=1,
            )
            .on_conflict(
                conflict_target=[cls.kind, cls.object_id, cls.window_start],
                update={cls.count: cls.count + 1, cls.last_at: now},
            )
            .returning(cls.count)
        )
        return list(query.execute())[0].count

    @classmethod
    def prune_strangers(cls, now: dt.datetime | None = None, days: int = 30) -> int:
        """Delete the counters of the peer inbox and of undetermined relays whose window ended
        `days` ago: one row per client network or peer and window, read by nobody after it (the
        licences' and passes' rows stay: the holder's log shows them)."""
        cutoff = (now or utcnow()) - dt.timedelta(days=days)
        spent = ("inbox", "inbox_all", "inbox_peer", "relay_undet")
        old = cls.kind.in_(spent) & (cls.last_at < cutoff)
        return cls.delete().where(old).execute()

    @classmethod
    def of(cls, kind: str, object_id: int, since: dt.datetime | None = None):
        """The windows of refused checks of one licence or pass, newest first."""
        query = cls.select().where((cls.kind == kind) & (cls.object_id == object_id))
        if since is not None:
            query = query.where(cls.last_at >= since)
        return query.order_by(cls.last_at.desc())


class Setting(BaseModel):
    """A deployment-wide setting kept in the database (shared by every node)."""

    key = CharField(max_length=60, primary_key=True)
    value = TextField(default="")

    @classmethod
    def get_value(cls, key: str, default: str | None = None) -> str | None:
        """The setting's value, or the default."""
        # Every page asks for the demo banner's setting: the SQL text is built once.
        row = compiled_get(cls, "setting-by-key", lambda: cls.select().where(cls.key == ""), key)
        return row.value if row else default

    @classmethod
    def set_value(cls, key: str, value: str) -> None:
        """Create or replace a setting."""
        cls.insert(key=key, value=value).on_conflict(
            conflict_target=[cls.key], update={cls.value: value}
        ).execute()
