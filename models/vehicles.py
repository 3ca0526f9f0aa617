"""Motor vehicles as the vehicle office registers them, their archive, violations and plates.

The vehicle record is shared by every measure that deals with a vehicle: the second-hand
transfer moves it between owners and offices, and the truck pass reads its type, mass,
status and safety-inspection date. So it is general, not shaped for one measure.
"""

import datetime as dt

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from rules.clock import beijing_today

from .base import BaseModel, compiled_get, utcnow
from .people import Office, User

# Vehicle types (车辆类型), stored as these strings; labels live with the blueprints.
VEHICLE_TYPES = (
    "small_car",
    "small_new_energy",
    "medium_bus",
    "large_bus",
    "light_truck",
    "medium_truck",
    "heavy_truck",
    "tractor_unit",
    "motorcycle",
)
TRUCK_TYPES = frozenset({"light_truck", "medium_truck", "heavy_truck", "tractor_unit"})

# Registration status of a vehicle (机动车状态). Only a normal vehicle may be sold and
# transferred; every other status blocks it. "transferred_out" (转出) means the archive has
# left this office for another one: the record stays here, read-only, as history.
NORMAL = "normal"
MORTGAGED = "mortgaged"
SEIZED = "seized"
STOLEN = "stolen"
SCRAPPED = "scrapped"
TRANSFERRED_OUT = "transferred_out"
VEHICLE_STATUSES = (NORMAL, MORTGAGED, SEIZED, STOLEN, SCRAPPED, TRANSFERRED_OUT)

# Kinds of entries in a vehicle's archive (档案).
RECORD_KINDS = (
    "initial_registration",  # 注册登记
    "transfer_registration",  # 转移登记
    "transfer_out",  # 转出
    "mortgage",  # 抵押登记
    "mortgage_release",  # 解除抵押
    "document",  # a document filed with the archive (invoice, inspection record, ...)
)


class Vehicle(BaseModel):
    """A motor vehicle (机动车) as registered at one vehicle office.

    `owner` links the owner's account when they have one here; the owner's name and ID number
    are kept on the record itself, as on the registration certificate (登记证书), because an
    owner registered in another city need not have an account in this deployment.
    """

    vin = CharField(max_length=17, unique=True)
    plate = CharField(max_length=8, unique=True, null=True)
    brand = CharField(max_length=40)
    model_name = CharField(max_length=60)
    vehicle_type = CharField(max_length=20, default="small_car")
    colour = CharField(max_length=20)
    engine_no = CharField(max_length=30)
    first_registered_on = DateField()
    # Gross mass in kg, needed for trucks (the truck-pass rules are set by mass); else None.
    gross_mass_kg = IntegerField(null=True)
    # Emission standard (排放标准): china3 .. china6, or nev for new energy; passes depend on it.
    emission_standard = CharField(max_length=10, null=True)
    owner = ForeignKeyField(User, null=True, backref="vehicles", on_delete="SET NULL")
    owner_name = CharField(max_length=50)
    owner_resident_id = CharField(max_length=18, index=True)
    # The owner's mobile number as recorded at the office: identity codes go only here.
    owner_mobile = CharField(max_length=11, null=True)
    registration_office = ForeignKeyField(Office, backref="vehicles", on_delete="RESTRICT")
    certificate_no = CharField(max_length=20, unique=True)
    inspection_valid_until = DateField(null=True)
    status = CharField(max_length=20, default=NORMAL, index=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    @classmethod
    def by_plate(cls, plate: str) -> "Vehicle | None":
        """The vehicle with this (normalised) plate, or None; every truck-pass step asks it, so
        its SQL text is built once (compiled_get)."""
        return compiled_get(
            cls, "vehicle-by-plate", lambda: cls.select().where(cls.plate == ""), plate
        )

    @property
    def is_truck(self) -> bool:
        """Trucks of every size (the truck-pass measure applies to these)."""
        return self.vehicle_type in TRUCK_TYPES

    def inspection_valid_on(self, day: dt.date) -> bool:
        """True when the safety inspection (安全技术检验) is valid on `day`."""
        return self.inspection_valid_until is not None and self.inspection_valid_until >= day

    @property
    def inspection_lapsed(self) -> bool:
        """The recorded inspection ran out before today (Beijing); False when none is recorded."""
        recorded = self.inspection_valid_until is not None
        return recorded and not self.inspection_valid_on(beijing_today())

    def unhandled_violations(self):
        """Traffic violations of this vehicle not yet handled."""
        return TrafficViolation.select().where(
            (TrafficViolation.vehicle == self) & (TrafficViolation.handled == False)  # noqa: E712
        )

    def history(self):
        """The vehicle's archive entries, oldest first."""
        return (
            VehicleRecord.select(VehicleRecord, Office)
            .join(Office)
            .where(VehicleRecord.vehicle == self)
            .order_by(VehicleRecord.at, VehicleRecord.id)
        )

    def record(self, kind: str, office, note: str = "", at: dt.datetime | None = None):
        """Add an archive entry with the vehicle's current plate, owner and certificate."""
        return VehicleRecord.create(
            vehicle=self,
            at=at or utcnow(),
            kind=kind,
            office=office,
            plate=self.plate,
            owner_name=self.owner_name,
            owner_resident_id=self.owner_resident_id,
            certificate_no=self.certificate_no,
            note=note,
        )


class VehicleRecord(BaseModel):
    """One entry of a vehicle's archive: a registration, an owner change or a document."""

    vehicle = ForeignKeyField(Vehicle, backref="records", on_delete="CASCADE")
    at = DateTimeField(default=utcnow)
    kind = CharField(max_length=30)
    office = ForeignKeyField(Office, on_delete="RESTRICT")
    plate = CharField(max_length=8, null=True)
    owner_name = CharField(max_length=50)
    owner_resident_id = CharField(max_length=18)
    certificate_no = CharField(max_length=20)
    note = TextField(default="")


class TrafficViolation(BaseModel):
    """A traffic violation (交通违法) recorded against a vehicle; handled once dealt with."""

    vehicle = ForeignKeyField(Vehicle, backref="violations", on_delete="CASCADE")
    occurred_on = DateField()
    place = CharField(max_length=100, default="")
    description = CharField(max_length=200)
    handled = BooleanField(default=False, index=True)
    handled_at = DateTimeField(null=True)

    class Meta:
        # A vehicle's unhandled violations (the transfer checks): migration 0007.
        indexes = ((("vehicle", "handled"), False),)


# Status of a plate number in an office's pool (号牌号码库).
PLATE_FREE = "free"
PLATE_RESERVED = "reserved"  # chosen by a buyer for a case, not yet issued
PLATE_ASSIGNED = "assigned"
PLATE_STATUSES = (PLATE_FREE, PLATE_RESERVED, PLATE_ASSIGNED)


class PlateNumber(BaseModel):
    """A plate number of this city's pool, free to be issued, reserved or assigned.

    Issuing is a conditional update (`... WHERE status = 'free'`), so one plate can never be
    given to two vehicles, however many clerks register at once.
    """

    plate = CharField(max_length=8, unique=True)
    office = ForeignKeyField(Office, backref="plates", on_delete="RESTRICT")
    status = CharField(max_length=10, default=PLATE_FREE, index=True)
    vehicle = ForeignKeyField(Vehicle, null=True, backref="issued_plates", on_delete="SET NULL")
    assigned_at = DateTimeField(null=True)
