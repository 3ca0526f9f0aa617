"""The named query methods that keep compiled SQL inside models/: each gives what the plain
peewee query gives, and the compare-and-set moves a row only from the state it was seen in."""

import pytest

from models import (
    AccidentCase,
    CaseParty,
    ELicence,
    EvidenceItem,
    LicenceRecord,
    RestrictedZone,
    ReviewRequest,
    ShareCode,
    User,
    Vehicle,
    ZoneRule,
)
from models.base import utcnow
from models.identity import COUNTER, QUERY_CODE, IdentityProof
from models.licence import TYPING_ALPHABET, new_secret, new_typing_key
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
        held = ELicence.with_record_of_holder(elicence.holder_id)
        assert held.id == elicence.id and held.record.licence_no == record.licence_no
        assert not held.is_dirty()  # read, not changed: nothing for a save() to write
        assert ELicence.with_record_of_holder(-1) is None
        with_office = LicenceRecord.by_licence_no_with_office(record.licence_no)
        assert with_office.id == record.id and with_office.name == record.name
        assert with_office.office_code == record.issuing_office.code
        assert LicenceRecord.by_licence_no_with_office("000000000000000000") is None


def test_the_logged_in_account_comes_with_whether_it_proved_its_id_number(app, make, conn):
    proven = make.citizen()
    unproven = make.citizen(proven=False)
    by_code = make.citizen(proven=False)
    make.proof(by_code, QUERY_CODE, case=make.accident_case())
    at_counter = make.citizen(proven=False)
    make.proof(at_counter, COUNTER)
    with conn():
        for user, expected in (
            (proven, True),
            (unproven, False),
            (by_code, False),  # a query code proves one case, not the ID number
            (at_counter, True),
        ):
            account = IdentityProof.logged_in_user(user.get_id())
            assert account.id == user.id and bool(account.full_proof) is expected
            assert IdentityProof.proves(account) is expected
        assert IdentityProof.logged_in_user(f"{proven.id}:not-the-token") is None
        assert IdentityProof.logged_in_user("nonsense") is None
        User.update(active=False).where(User.id == proven.id).execute()
        assert IdentityProof.logged_in_user(proven.get_id()) is None
        # A proof of an earlier ID number does not prove the new one.
        User.update(resident_id="110101199001011237").where(User.id == at_counter.id).execute()
        assert not IdentityProof.logged_in_user(at_counter.get_id()).full_proof


def test_new_secrets_and_typing_keys():
    secret = new_secret()
    assert len(secret) == 32 and set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    keys = [new_typing_key("37") for _ in range(200)]
    assert all(len(k) == 8 and k.startswith("37") for k in keys)
    assert set("".join(k[2:] for k in keys)) == set(TYPING_ALPHABET)  # 1,200 draws of 32
    assert len(TYPING_ALPHABET) == 32  # so one random byte's low five bits pick evenly


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


def test_a_case_is_read_with_its_office_officer_and_the_party_in_one_query(app, make, conn):
    case = make.accident_case()
    citizen = make.citizen()
    party = make.party(case, citizen)
    make.party(case)  # another party: not the one asked for
    with conn():
        stored = AccidentCase.get_by_id(case.id)
        found, found_party = AccidentCase.for_access(case.id, citizen.resident_id)
        assert found.__data__ == stored.__data__ and not found.is_dirty()
        assert found.office.__data__ == stored.office.__data__
        assert found.officer_name == stored.officer.real_name
        assert found_party.__data__ == CaseParty.get_by_id(party.id).__data__
        # No party row for another ID number, or when none is asked for (an officer's look).
        assert AccidentCase.for_access(case.id, "110101199001011237")[1] is None
        assert AccidentCase.for_access(case.id, None)[1] is None
        assert AccidentCase.for_access(-1, citizen.resident_id) is None


def test_the_case_pages_lists(app, make, conn):
    case = make.accident_case()
    other = make.accident_case()
    parties = [make.party(case), make.party(case)]
    make.party(other)
    released = make.evidence(case, category="photo")
    withheld = make.evidence(case, released=False, withhold_reason="privacy")
    make.evidence(other)
    with conn():
        assert [p.id for p in CaseParty.of_case(case.id)] == [p.id for p in parties]
        everything = EvidenceItem.select().where(EvidenceItem.case == case.id)
        ordered = everything.order_by(EvidenceItem.category, EvidenceItem.id)
        assert [i.__data__ for i in EvidenceItem.of_case(case.id)] == [i.__data__ for i in ordered]
        assert [i.id for i in EvidenceItem.of_case(case.id, released_only=True)] == [released.id]
        kept = EvidenceItem.withheld_of_case(case.id)
        assert [(i.id, i.category, i.withhold_reason) for i in kept] == [
            (withheld.id, withheld.category, "privacy")
        ]
        assert kept[0].title is None  # what a party may know of it only
        assert CaseParty.of_case(-1) == [] and EvidenceItem.of_case(-1) == []


def test_a_partys_review_requests_newest_first(app, make, conn):
    case = make.accident_case()
    citizen = make.citizen()
    party = make.party(case, citizen)
    with conn():
        first = ReviewRequest.create(case=case.id, party=party.id, user=citizen.id, grounds="a")
        second = ReviewRequest.create(
            case=case.id, party=party.id, user=citizen.id, grounds="b", requested_at=utcnow()
        )
        found = ReviewRequest.of_party(party.id)
        assert [r.id for r in found] == [second.id, first.id]
        assert found[0].__data__ == ReviewRequest.get_by_id(second.id).__data__
        assert ReviewRequest.of_party(-1) == []


def test_an_accounts_roles(app, make, conn):
    officer = make.staff("accident_officer", "admin")
    citizen = make.citizen()
    with conn():
        assert User.get_by_id(officer.id).roles == {"accident_officer", "admin"}
        assert User.get_by_id(make.staff("vehicle_clerk").id).roles == {"vehicle_clerk"}
        assert User.get_by_id(citizen.id).roles == {"citizen"}


def test_an_account_keeps_its_office_read_with_another_row(app, make, conn):
    case = make.accident_case()
    with conn():
        officer = User.get_by_id(case.officer_id)
        found, _ = AccidentCase.for_access(case.id, None)
        officer.keep_office(found.office)
        assert officer.office is found.office and not officer.is_dirty()
        with pytest.raises(ValueError):
            officer.keep_office(make.office())
