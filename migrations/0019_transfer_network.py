"""The cross-deployment transfer: the destination's link to the origin
deployment, the origin's outgoing-transfer record and its timeline; a case's seller may be a
user of another deployment (null here)."""

import datetime as dt

from peewee import *  # noqa: F403


def _now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def up(migrator, db):
    migrator.migrate(migrator.drop_not_null("transfer_case", "seller_id"))

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Vehicle(Model):
        class Meta:
            database = db
            table_name = "vehicle"

    class TransferCase(Model):
        class Meta:
            database = db
            table_name = "transfer_case"

    class TransferLink(Model):
        case = ForeignKeyField(TransferCase, unique=True, on_delete="CASCADE")
        peer_url = CharField(max_length=200, index=True)
        seller_name = CharField(max_length=50)
        seller_resident_id = CharField(max_length=18)
        origin_reasons = TextField(default="[]")
        checked_at = DateTimeField(default=_now)

        class Meta:
            database = db
            table_name = "transfer_link"

    class OutgoingTransfer(Model):
        peer_url = CharField(max_length=200)
        remote_case_id = IntegerField()
        case_number = CharField(max_length=20)
        vehicle = ForeignKeyField(Vehicle, on_delete="RESTRICT")
        open_vehicle = ForeignKeyField(Vehicle, null=True, unique=True, on_delete="RESTRICT")
        seller = ForeignKeyField(User, on_delete="RESTRICT")
        buyer_name = CharField(max_length=50)
        destination = TextField()
        invoice_no = CharField(max_length=20)
        invoice_date = CharField(max_length=10)
        price = CharField(max_length=20)
        state = CharField(max_length=20, default="open", index=True)
        seller_confirmed_at = DateTimeField(null=True)
        archive_sha256 = CharField(max_length=64, null=True)
        archive_sent_at = DateTimeField(null=True)
        archive_sent_by = ForeignKeyField(User, null=True, on_delete="RESTRICT")
        refusal_reason = TextField(null=True)
        new_plate = CharField(max_length=8, null=True)
        transferred_out_at = DateTimeField(null=True)
        created_at = DateTimeField(default=_now)
        updated_at = DateTimeField(default=_now, index=True)

        class Meta:
            database = db
            table_name = "outgoing_transfer"
            indexes = ((("peer_url", "remote_case_id"), True),)

    class OutgoingEvent(Model):
        outgoing = ForeignKeyField(OutgoingTransfer, on_delete="CASCADE")
        at = DateTimeField(default=_now)
        kind = CharField(max_length=30)
        city = CharField(max_length=50)
        city_en = CharField(max_length=50, default="")
        actor = ForeignKeyField(User, null=True, on_delete="RESTRICT")
        detail = TextField(default="{}")

        class Meta:
            database = db
            table_name = "outgoing_event"

    db.create_tables([TransferLink, OutgoingTransfer, OutgoingEvent])


def down(migrator, db):
    for table in ("outgoing_event", "outgoing_transfer", "transfer_link"):
        migrator.migrate(migrator.drop_table(table))
    migrator.migrate(migrator.add_not_null("transfer_case", "seller_id"))
