"""Measure 2, cross-region second-hand vehicle transfer: vehicles, their archive entries,
traffic violations and the plate pool; transfer cases, inspections and their photos, archive
transfers and the case timeline.

Python-side defaults (timestamps) live on the models, not in the schema.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    class Office(Model):
        class Meta:
            database = db
            table_name = "office"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Vehicle(Model):
        vin = CharField(unique=True, max_length=17)
        plate = CharField(unique=True, null=True, max_length=8)
        brand = CharField(max_length=40)
        model_name = CharField(max_length=60)
        vehicle_type = CharField(max_length=20, default="small_car")
        colour = CharField(max_length=20)
        engine_no = CharField(max_length=30)
        first_registered_on = DateField()
        gross_mass_kg = IntegerField(null=True)
        owner = ForeignKeyField(User, null=True, on_delete="SET NULL")
        owner_name = CharField(max_length=50)
        owner_resident_id = CharField(index=True, max_length=18)
        registration_office = ForeignKeyField(Office, on_delete="RESTRICT")
        certificate_no = CharField(unique=True, max_length=20)
        inspection_valid_until = DateField(null=True)
        status = CharField(index=True, max_length=20, default="normal")
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "vehicle"

    db.create_tables([Vehicle])

    class PlateNumber(Model):
        plate = CharField(unique=True, max_length=8)
        office = ForeignKeyField(Office, on_delete="RESTRICT")
        status = CharField(index=True, max_length=10, default="free")
        vehicle = ForeignKeyField(Vehicle, null=True, on_delete="SET NULL")
        assigned_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "plate_number"

    db.create_tables([PlateNumber])

    class TransferCase(Model):
        state = CharField(index=True, max_length=30, default="awaiting_confirmation")
        vehicle = ForeignKeyField(Vehicle, on_delete="RESTRICT")
        open_vehicle = ForeignKeyField(Vehicle, unique=True, null=True, on_delete="RESTRICT")
        seller = ForeignKeyField(User, on_delete="RESTRICT")
        buyer = ForeignKeyField(User, on_delete="RESTRICT")
        market = ForeignKeyField(Office, null=True, on_delete="RESTRICT")
        opened_by = ForeignKeyField(User, on_delete="RESTRICT")
        opened_at = DateTimeField()
        origin_office = ForeignKeyField(Office, on_delete="RESTRICT")
        destination_office = ForeignKeyField(Office, on_delete="RESTRICT")
        invoice_no = CharField(index=True, max_length=20)
        invoice_date = DateField()
        price = DecimalField(max_digits=12, decimal_places=2)
        residence_permit_no = CharField(null=True, max_length=30)
        seller_confirmed_at = DateTimeField(null=True)
        buyer_confirmed_at = DateTimeField(null=True)
        stop_reasons = TextField(null=True)
        chosen_plate = ForeignKeyField(PlateNumber, unique=True, null=True, on_delete="SET NULL")
        new_plate = CharField(null=True, max_length=8)
        new_certificate_no = CharField(null=True, max_length=20)
        registered_at = DateTimeField(null=True)
        registered_by = ForeignKeyField(User, null=True, on_delete="RESTRICT")
        updated_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = "transfer_case"

    db.create_tables([TransferCase])

    class ArchiveTransfer(Model):
        case = ForeignKeyField(TransferCase, unique=True, on_delete="CASCADE")
        from_office = ForeignKeyField(Office, on_delete="RESTRICT")
        to_office = ForeignKeyField(Office, on_delete="RESTRICT")
        status = CharField(index=True, max_length=10, default="requested")
        requested_at = DateTimeField()
        requested_by = ForeignKeyField(User, on_delete="RESTRICT")
        reviewed_by = ForeignKeyField(User, null=True, on_delete="RESTRICT")
        reviewed_at = DateTimeField(null=True)
        refusal_reason = TextField(null=True)
        document = TextField(null=True)
        document_sha256 = CharField(null=True, max_length=64)
        format_version = IntegerField(null=True)
        received_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "archive_transfer"

    db.create_tables([ArchiveTransfer])

    class Inspection(Model):
        case = ForeignKeyField(TransferCase, unique=True, on_delete="CASCADE")
        inspector = ForeignKeyField(User, on_delete="RESTRICT")
        office = ForeignKeyField(Office, on_delete="RESTRICT")
        at = DateTimeField()
        vin_read = CharField(max_length=17)
        plate_read = CharField(max_length=8)
        vin_matches = BooleanField()
        plate_matches = BooleanField()
        passed = BooleanField()
        remarks = TextField(default="")

        class Meta:
            database = db
            table_name = "inspection"

    db.create_tables([Inspection])

    class InspectionPhoto(Model):
        inspection = ForeignKeyField(Inspection, on_delete="CASCADE")
        relpath = CharField(max_length=200)
        sha256 = CharField(max_length=64)
        size = IntegerField()
        mime = CharField(max_length=40)
        uploaded_at = DateTimeField()

        class Meta:
            database = db
            table_name = "inspection_photo"

    db.create_tables([InspectionPhoto])

    class TrafficViolation(Model):
        vehicle = ForeignKeyField(Vehicle, on_delete="CASCADE")
        occurred_on = DateField()
        place = CharField(max_length=100, default="")
        description = CharField(max_length=200)
        handled = BooleanField(index=True, default=False)
        handled_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "traffic_violation"

    db.create_tables([TrafficViolation])

    class TransferEvent(Model):
        case = ForeignKeyField(TransferCase, on_delete="CASCADE")
        at = DateTimeField()
        kind = CharField(max_length=30)
        office = ForeignKeyField(Office, null=True, on_delete="RESTRICT")
        actor = ForeignKeyField(User, null=True, on_delete="RESTRICT")
        detail = TextField(default="{}")

        class Meta:
            database = db
            table_name = "transfer_event"

    db.create_tables([TransferEvent])

    class VehicleRecord(Model):
        vehicle = ForeignKeyField(Vehicle, on_delete="CASCADE")
        at = DateTimeField()
        kind = CharField(max_length=30)
        office = ForeignKeyField(Office, on_delete="RESTRICT")
        plate = CharField(null=True, max_length=8)
        owner_name = CharField(max_length=50)
        owner_resident_id = CharField(max_length=18)
        certificate_no = CharField(max_length=20)
        note = TextField(default="")

        class Meta:
            database = db
            table_name = "vehicle_record"

    db.create_tables([VehicleRecord])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("vehicle_record"))
    migrator.migrate(migrator.drop_table("transfer_event"))
    migrator.migrate(migrator.drop_table("traffic_violation"))
    migrator.migrate(migrator.drop_table("inspection_photo"))
    migrator.migrate(migrator.drop_table("inspection"))
    migrator.migrate(migrator.drop_table("archive_transfer"))
    migrator.migrate(migrator.drop_table("transfer_case"))
    migrator.migrate(migrator.drop_table("plate_number"))
    migrator.migrate(migrator.drop_table("vehicle"))
