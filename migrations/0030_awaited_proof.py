"""Comparing witnesses' notes (core.auditlog.gossip):

- `awaited_proof`: a peer's log that has not yet proven that the checkpoint of it cosigned here
  and the one another witness cosigned are one history. One row per (log, other witness),
  since the first ask it left unanswered; gone once it proves them. A log in touch that
  withholds the proof for an hour raises an alert.
- `peer.compares_notes_at`: when the peer first answered the question of the checkpoints it
  cosigned. From then on it takes part (a version never goes back): its saying it does not
  know the question no longer excuses it.
- `audit_checkpoint.signed_again_at`: when a newer key's signature was added to a quiet log's
  newest checkpoint after a rotation; its witnesses are asked again, so that the note they keep
  (and show other witnesses) carries the key that stays valid.
"""

import datetime as dt

from peewee import *  # noqa: F403


def _now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def up(migrator, db):
    class AwaitedProof(Model):
        log_url = CharField(max_length=200)
        witness_url = CharField(max_length=200)
        since = DateTimeField(default=_now)
        last_asked_at = DateTimeField(default=_now)
        asks = IntegerField(default=1)

        class Meta:
            database = db
            table_name = "awaited_proof"
            indexes = ((("log_url", "witness_url"), True),)

    db.create_tables([AwaitedProof])
    migrator.migrate(
        migrator.add_column("peer", "compares_notes_at", DateTimeField(null=True)),
        migrator.add_column("audit_checkpoint", "signed_again_at", DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("audit_checkpoint", "signed_again_at"),
        migrator.drop_column("peer", "compares_notes_at"),
        migrator.drop_table("awaited_proof"),
    )
