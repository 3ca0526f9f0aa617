"""Measure 3: truck pass codes, the zones and rules they depend on, and the emission standard
of vehicles.

Python-side defaults (timestamps, handles) live on the models, not in the schema.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Vehicle(Model):
        class Meta:
            database = db
            table_name = "vehicle"

    class RestrictedZone(Model):
        name = CharField(max_length=60)
        name_en = CharField(max_length=60, default="")
        description = TextField(default="")
        map_image = CharField(null=True, max_length=200)
        active = BooleanField(default=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "restricted_zone"

    db.create_tables([RestrictedZone])

    class TruckPass(Model):
        applicant = ForeignKeyField(User, on_delete="RESTRICT")
        vehicle = ForeignKeyField(Vehicle, on_delete="RESTRICT")
        plate = CharField(index=True, max_length=8)
        truck_class = CharField(max_length=12)
        emission = CharField(max_length=10)
        start_date = DateField()
        end_date = DateField()
        windows = CharField(max_length=200)
        purpose = CharField(max_length=200)
        status = CharField(index=True, max_length=16, default="submitted")
        reason = CharField(max_length=300, default="")
        decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        decided_at = DateTimeField(null=True)
        handle = CharField(unique=True, max_length=32)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "truck_pass"

    db.create_tables([TruckPass])

    class TruckPassDocument(Model):
        truck_pass = ForeignKeyField(TruckPass, on_delete="CASCADE")
        relpath = CharField(max_length=200)
        sha256 = CharField(max_length=64)
        mime = CharField(max_length=40)
        size = IntegerField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "truck_pass_document"

    db.create_tables([TruckPassDocument])

    class TruckPassZone(Model):
        truck_pass = ForeignKeyField(TruckPass, on_delete="CASCADE")
        zone = ForeignKeyField(RestrictedZone, on_delete="RESTRICT")

        class Meta:
            database = db
            table_name = "truck_pass_zone"
            indexes = ((("truck_pass", "zone"), True),)

    db.create_tables([TruckPassZone])

    class ZoneRule(Model):
        zone = ForeignKeyField(RestrictedZone, on_delete="CASCADE")
        classes = CharField(max_length=60)
        days = CharField(max_length=7)
        windows = CharField(max_length=200)
        emissions = CharField(max_length=60)
        max_days = IntegerField(default=30)
        needs_review = BooleanField(default=False)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "zone_rule"

    db.create_tables([ZoneRule])

    migrator.migrate(
        migrator.add_column("vehicle", "emission_standard", CharField(null=True, max_length=10))
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("vehicle", "emission_standard"))
    migrator.migrate(migrator.drop_table("zone_rule"))
    migrator.migrate(migrator.drop_table("truck_pass_zone"))
    migrator.migrate(migrator.drop_table("truck_pass_document"))
    migrator.migrate(migrator.drop_table("truck_pass"))
    migrator.migrate(migrator.drop_table("restricted_zone"))
