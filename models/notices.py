"""Notices (通知) to a person: the inbox rows on the site, each the source of its SMS or e-mail.

A notice stores its kind and parameters, not text: it is put into words in the reader's
language when shown or delivered (core.notices), so a citizen who switches language reads old
notices in the new one.
"""

import json

from peewee import CharField, DateTimeField, ForeignKeyField, TextField, fn

from .base import BaseModel, compiled_scalar, utcnow
from .people import User


class Notice(BaseModel):
    """One notice to one account: what happened (kind + params), when, and whether it was read."""

    user = ForeignKeyField(User, backref="notices", on_delete="CASCADE")
    # Also the reference its SMS and e-mail carry (core.notices).
    message_id = CharField(max_length=64, unique=True)
    kind = CharField(max_length=60)
    params = TextField(default="{}")
    created_at = DateTimeField(default=utcnow)
    read_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "read_at"), False),)

    @property
    def params_dict(self) -> dict:
        """The parameters as a dict."""
        return json.loads(self.params or "{}")

    @classmethod
    def unread_count(cls, user_id: int) -> int:
        """How many notices the account has not read (the number in the navigation, on every
        page of a logged-in account: its SQL text is built once)."""
        return compiled_scalar(
            "notice-unread-count",
            lambda: cls.select(fn.COUNT(cls.id)).where((cls.user == 0) & cls.read_at.is_null()),
            user_id,
        )

    @classmethod
    def of(cls, user_id: int):
        """The account's notices, newest first."""
        return (
            cls.select().where(cls.user == user_id).order_by(cls.created_at.desc(), cls.id.desc())
        )

    @classmethod
    def of_kinds(cls, user_id: int, kinds: list[str]):
        """The account's notices of these kinds, read or not."""
        return cls.select().where((cls.user == user_id) & cls.kind.in_(kinds))

    @classmethod
    def unread_of(cls, user_id: int, kinds: list[str]):
        """The account's unread notices of these kinds."""
        return cls.of_kinds(user_id, kinds).where(cls.read_at.is_null())

    @classmethod
    def mark_read(cls, user_id: int, notice_ids: int | list[int] | None = None) -> int:
        """Mark one notice, several, or all of the account read; returns how many changed."""
        query = cls.update(read_at=utcnow()).where((cls.user == user_id) & cls.read_at.is_null())
        if isinstance(notice_ids, int):
            query = query.where(cls.id == notice_ids)
        elif notice_ids is not None:
            query = query.where(cls.id.in_(notice_ids))
        return query.execute()
