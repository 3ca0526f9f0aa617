"""`flask transfer import-vehicles`: a city's vehicle register from CSV, each row checked, the
good rows imported with their first archive entry, nothing imported twice."""

import csv
import io

from models import AuditEvent, PlateNumber, Vehicle, VehicleRecord
from models.vehicles import PLATE_ASSIGNED, PLATE_FREE, PLATE_RESERVED

HEADER = [
    "vin",
    "plate",
    "brand",
    "model_name",
    "vehicle_type",
    "colour",
    "engine_no",
    "first_registered_on",
    "owner_name",
    "owner_resident_id",
    "certificate_no",
    "gross_mass_kg",
    "emission_standard",
    "owner_mobile",
    "inspection_valid_until",
    "status",
]


def register_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def test_the_vehicle_register_is_imported_checked_and_once(runner, make, conn, tmp_path):
    office = make.office(plate_prefix="鲁F")
    owner = make.citizen(real_name="李娜")
    with conn():
        PlateNumber.create(plate="鲁F12345", office=office, status=PLATE_FREE)
        PlateNumber.create(plate="鲁F82345", office=office, status=PLATE_RESERVED)

    def row(n, **over):
        base = {
            "vin": make.vin().lower(),
            "plate": f"鲁F·{n}2345",
            "brand": "解放",
            "model_name": "J6P",
            "vehicle_type": "heavy_truck",
            "colour": "白",
            "engine_no": f"e{n}1234567",
            "first_registered_on": "2019-05-06",
            "owner_name": owner.real_name,
            "owner_resident_id": owner.resident_id,
            "certificate_no": f"370600{n:06d}",
            "gross_mass_kg": "25000",
            "emission_standard": "china6",
            "owner_mobile": "",
            "inspection_valid_until": "2027-05-06",
            "status": "normal",
        }
        return {**base, **over}

    good = row(1)
    rows = [
        good,
        row(
            2,
            owner_resident_id=make.resident_id(),
            owner_name="王伟",
            vehicle_type="small_car",
            gross_mass_kg="",
            emission_standard="",
        ),
        row(3, vin="LSV00000000000000"),  # a wrong check digit
        row(4, plate="鲁B42345"),  # another city's plate
        row(5, vehicle_type="spaceship"),
        row(6, first_registered_on="06/05/2019"),
        {**good, "certificate_no": "370600999999"},  # the first row's VIN again
        row(7, plate=good["plate"]),  # the first row's plate on another VIN
        row(8),  # its plate is reserved in the pool for a transfer's buyer
    ]
    path = tmp_path / "register.csv"
    path.write_text(register_csv(rows), encoding="utf-8")
    result = runner.invoke(args=["transfer", "import-vehicles", str(path)])
    assert result.exit_code == 1, result.output
    assert "imported 2, already there 0, rejected 7" in result.output
    for line, said in (
        (4, "vin"),
        (5, "plate: not of 鲁F"),
        (6, "unknown vehicle_type: spaceship"),
        (7, "first_registered_on: not a date"),
        (8, "a different vehicle with this VIN"),
        (9, "plate or certificate_no belongs to another vehicle"),
        (10, "the pool holds it for a transfer"),
    ):
        assert f"line {line}:" in result.output and said in result.output, (line, result.output)
    with conn():
        truck = Vehicle.get(Vehicle.vin == good["vin"].upper())
        assert (truck.plate, truck.owner_id, truck.registration_office_id) == (
            "鲁F12345",
            owner.id,  # the account that holds the number is linked as the owner
            office.id,
        )
        assert (truck.gross_mass_kg, truck.emission_standard) == (25000, "china6")
        first = VehicleRecord.get(VehicleRecord.vehicle == truck.id)
        assert (first.kind, first.office_id) == ("initial_registration", office.id)
        pooled = PlateNumber.get(PlateNumber.plate == "鲁F12345")
        assert (pooled.status, pooled.vehicle_id) == (PLATE_ASSIGNED, truck.id)
        assert Vehicle.get(Vehicle.plate == "鲁F22345").owner_id is None  # no account yet
        assert (
            AuditEvent.get(AuditEvent.action == "transfer.vehicles_import").detail_dict["imported"]
            == 2
        )
    # A second run imports nothing twice; a changed row is refused, never overwritten.
    changed = {**good, "colour": "黑"}
    path.write_text(register_csv([good, changed]), encoding="utf-8")
    again = runner.invoke(args=["transfer", "import-vehicles", str(path)])
    assert "imported 0, already there 1, rejected 1" in again.output
    assert "a different vehicle with this VIN" in again.output
    with conn():
        assert Vehicle.get(Vehicle.vin == good["vin"].upper()).colour == "白"
        assert Vehicle.select().count() == 2


def test_the_importer_names_what_it_lacks(runner, make, tmp_path):
    make.office(plate_prefix="鲁F")
    path = tmp_path / "register.csv"
    path.write_text("vin,plate\nLSV,鲁F12345\n", encoding="utf-8")
    result = runner.invoke(args=["transfer", "import-vehicles", str(path)])
    assert result.exit_code == 1 and "lacks the columns: brand" in result.output
    make.office(plate_prefix="鲁F")
    result = runner.invoke(args=["transfer", "import-vehicles", str(path)])
    assert result.exit_code == 2 and "2 vehicle offices here" in result.output
