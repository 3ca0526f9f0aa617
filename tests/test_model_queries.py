"""The named query methods that keep compiled SQL inside models/: each gives what the plain
peewee query gives, and the compare-and-set moves a row only from the state it was seen in."""

from models import (
    AccidentCase,
    ELicence,
    EvidenceItem,
    LicenceRecord,
    RestrictedZone,
    ShareCode,
    User,
    Vehicle,
    ZoneRule,
)
from models.base import utcnow
from models.stats import office_code_by


def test_licence_lookups(app, make, conn):
    elicence = make.elicence()
    with conn():
        record = LicenceRecord.get_by_id(elicence.record_id)
        assert LicenceRecord.by_licence_no(record.licence_no).id == record.id
        assert LicenceRecord.by_licence_no("000000000000000000") is None
        assert LicenceRecord.by_id(record.id).licence_no == record.licence_no
        assert LicenceRecord.by_id(-1) is None
        assert ELicence.by_handle(elicence.handle).id == elicence.id
        assert ELicence.by_handle("no-such-handle") is None
        assert ELicence.by_typing_key(elicence.typing_key).id == elicence.id
        assert ELicence.by_record(record.id).id == elicence.id
        assert ELicence.by_record(-1) is None


def test_a_check_reads_the_elicence_with_its_record_and_office_in_one_query(app, make, conn):
    elicence = make.elicence()
    with conn():
        record = LicenceRecord.get_by_id(elicence.record_id)
        stored = ELicence.get_by_id(elicence.id)
        for by, value in (("handle", elicence.handle), ("typing_key", elicence.typing_key)):
            found = ELicence.for_check(by, value)
            assert found.__data__ == stored.__data__ and not found.is_dirty()
            # The record as its own lookup gives it (dates and times converted), no query more.
            assert found.record.__data__ == record.__data__
            assert found.record_office_code == office_code_by("record", record.id)
            assert found.record_office_code == record.issuing_office.code
        assert ELicence.for_check("handle", "no-such-handle") is None
        assert ELicence.for_check("typing_key", "ZZZZZZZZ") is None


def test_insert_new_fills_defaults_and_sets_the_id(app, make, conn):
    """LicenceCheck is a read-only view over the audit log, so this test of the generic
    insert_new() inserts a ShareCode (same assertions: the id, the given and the
    default values)."""
    elicence = make.elicence()
    with conn():
        share = ShareCode(elicence=elicence.id, expires_at=utcnow())
        new_id = share.insert_new()
        assert share.id == new_id
        stored = ShareCode.get_by_id(new_id)
        assert (stored.elicence_id, stored.show_points, stored.note) == (elicence.id, False, "")
        assert stored.created_at is not None and len(stored.code) == 8


def test_set_if_moves_only_from_the_state_seen(app, make, conn):
    user = make.citizen(locale="zh")
    with conn():
        assert User.set_if(user.id, User.locale, "zh", {User.locale: "en"}) == 1
        assert User.set_if(user.id, User.locale, "zh", {User.locale: "fr"}) == 0
        assert User.get_by_id(user.id).locale == "en"


def test_vehicle_by_plate(app, make, conn):
    truck = make.truck()
    with conn():
        assert Vehicle.by_plate(truck.plate).id == truck.id
        assert Vehicle.by_plate("鲁B00000X") is None


def test_zones_in_force_and_their_rules(app, make, conn):
    first = make.zone({"classes": "heavy"}, {"classes": "light"}, name="甲")
    second = make.zone(name="乙")
    with conn():
        RestrictedZone.update(active=False).where(RestrictedZone.id == second.id).execute()
        assert [z.id for z in RestrictedZone.in_force()] == [first.id]
        rows = ZoneRule.of_zones([first.id, second.id])
        expected = ZoneRule.select().where(ZoneRule.zone.in_([first.id, second.id]))
        assert sorted(r.id for r in rows) == sorted(r.id for r in expected)
        assert ZoneRule.of_zones([]) == []


def test_office_codes_of_counted_events(app, make, conn):
    elicence = make.elicence()
    truck = make.truck()
    case = make.accident_case()
    item = make.evidence(case)
    with conn():
        record = LicenceRecord.get_by_id(elicence.record_id)
        office = record.issuing_office
        assert office_code_by("office", office.id) == office.code
        assert office_code_by("record", record.id) == office.code
        assert office_code_by("licence-no", record.licence_no) == office.code
        assert (
            office_code_by("vehicle", truck.id)
            == Vehicle.get_by_id(truck.id).registration_office.code
        )
        brigade = AccidentCase.get_by_id(case.id).office.code
        assert office_code_by("evidence-item", item.id) == brigade
        assert EvidenceItem.get_by_id(item.id).case_id == case.id
        assert office_code_by("office", -1) == ""
