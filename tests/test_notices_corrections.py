"""Notices of the corrections, reviews and re-inspections (core.notices): a corrected licence
record and a decided name correction tell the citizen, a review request tells the handling
officer and its answer the party, a failed inspection tells buyer and seller; none reaches an
account that has not proved the ID number the records are kept under."""

import datetime as dt

from blueprints.evidence import review
from blueprints.evidence.service import CaseAccess
from blueprints.licence import corrections
from blueprints.transfer import office_service
from core.notices import render
from models import ACCIDENT_OFFICER, CaseParty, Notice, User, db
from models.identity import IdentityProof
from models.transfer import AWAITING_INSPECTION
from rules.validators import display_plate

from .test_notices import kinds


def rendered(app, user):
    """A user's notices put into words (Chinese, their language), oldest first."""
    with app.test_request_context(), db.connection_context():
        return [render(n) for n in Notice.of(user.id)][::-1]


def test_a_corrected_record_tells_its_proven_holder_which_field_and_why(app, make):
    holder, stranger = make.citizen(), make.citizen(proven=False)
    record = make.licence_record(holder, address="青岛市旧地址1号")
    unproven_record = make.licence_record(stranger)
    clerk = make.staff("licence_clerk")
    with app.test_request_context(), db.connection_context():
        corrections.correct_record(
            record.id, clerk, field="address", value="青岛市新地址2号", reason="登记时录入错误"
        )
        corrections.correct_record(
            unproven_record.id, clerk, field="address", value="青岛市新地址3号", reason="录入错误"
        )
    assert kinds(holder) == ["licence.record_corrected"]
    assert kinds(stranger) == []
    (text,) = rendered(app, holder)
    assert text.title == "您的驾驶证档案已更正"
    assert "“住址”" in text.what and "登记时录入错误" in text.what
    # Neither value travels in a notice (it may go by SMS); the licence page shows them.
    assert "新地址" not in text.what + text.next_step and "旧地址" not in text.what
    assert holder.resident_id not in text.what and text.url == "/licence/"


def test_a_name_correction_decided_tells_the_citizen_the_decision_and_answer(app, make):
    approved, refused = make.citizen(real_name="张三丰"), make.citizen(real_name="李四")
    clerk = make.staff("licence_clerk")
    with app.test_request_context(), db.connection_context():
        first = corrections.request_name_correction(User.get_by_id(approved.id), new_name="张三峰")
        second = corrections.request_name_correction(User.get_by_id(refused.id), new_name="李泗")
        corrections.decide_name_correction(first.id, clerk, approve=True)
        corrections.decide_name_correction(second.id, clerk, approve=False, answer="与身份证不符")
    assert kinds(approved) == ["licence.name_corrected"]
    assert kinds(refused) == ["licence.name_correction_refused"]
    (yes,) = rendered(app, approved)
    assert "张三峰" in yes.what and "民警答复" not in yes.what  # no answer written, none shown
    (no,) = rendered(app, refused)
    assert no.title == "您的姓名更正申请未获批准"
    assert "李泗" in no.what and "民警答复：与身份证不符" in no.what
    assert "身份证" in no.next_step and no.url == "/licence/name-correction"


def test_a_review_tells_the_officer_and_its_answer_the_party(app, make):
    officer = make.staff(ACCIDENT_OFFICER, office=make.office(kind="police_brigade"))
    case = make.accident_case(officer, determination_delivered_on=dt.date.today())
    asking, other = make.citizen(), make.citizen()
    party = make.party(case, asking, role="owner")
    make.party(case, other)
    make.evidence(case, released=False, withhold_reason="privacy")
    with app.test_request_context(), db.connection_context():
        access = CaseAccess(case, CaseParty.get_by_id(party.id), User.get_by_id(asking.id))
        request = review.request_review(access, "请公开对方车辆的照片")
        assert kinds(officer) == ["evidence.review_requested"]
        assert kinds(asking) == []
        review.answer_review(request.id, officer, "照片含第三人隐私，不予公开")
    assert kinds(asking) == ["evidence.review_answered"]
    assert kinds(other) == [] and kinds(officer) == ["evidence.review_requested"]
    (asked,) = rendered(app, officer)
    assert case.case_no in asked.title and "请公开对方车辆的照片" in asked.what
    assert "车辆所有人" in asked.what and asking.real_name not in asked.what
    assert asked.url == "/evidence/reviews"
    (answered,) = rendered(app, asking)
    assert case.case_no in answered.title and "复核" in answered.what
    # The answer itself is read on the case page, where access is checked and logged.
    assert "第三人隐私" not in answered.what and answered.url == f"/evidence/cases/{case.id}"


def test_an_answer_does_not_reach_an_account_that_may_no_longer_see_the_case(app, make):
    officer = make.staff(ACCIDENT_OFFICER, office=make.office(kind="police_brigade"))
    case = make.accident_case(officer, determination_delivered_on=dt.date.today())
    asking = make.citizen()
    party = make.party(case, asking)
    with app.test_request_context(), db.connection_context():
        access = CaseAccess(case, CaseParty.get_by_id(party.id), User.get_by_id(asking.id))
        request = review.request_review(access, "请复核")
        # Its ID number changed since (the proof was of the old number): no notice.
        User.update(resident_id=make.resident_id()).where(User.id == asking.id).execute()
        review.answer_review(request.id, officer, "维持")
    assert kinds(asking) == []


def test_a_failed_inspection_tells_buyer_and_seller_what_to_do(app, make):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    with app.test_request_context(), db.connection_context():
        office_service.inspect(
            case.id,
            w.clerk,
            vin_read=w.vehicle.vin,
            plate_read=w.vehicle.plate,
            passed=False,
            remarks="左前大灯不亮",
        )
    assert kinds(w.buyer)[-1] == "transfer.inspection_failed"
    assert kinds(w.seller)[-1] == "transfer.inspection_failed_seller"
    buyer, seller = rendered(app, w.buyer)[-1], rendered(app, w.seller)[-1]
    for text in (buyer, seller):
        assert text.title == f"{display_plate(w.vehicle.plate)} 查验未通过"
        assert "左前大灯不亮" in text.what and "青岛车管所" in text.what
        assert "重新查验" in text.next_step and text.url == f"/transfer/cases/{case.id}"
    assert "登记证书和身份证" in buyer.next_step and "青岛" in buyer.next_step
    assert "无需办理" in seller.next_step


def test_a_failed_inspection_is_not_told_to_a_seller_no_longer_proven(app, make):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    typo = make.vin()
    with app.test_request_context(), db.connection_context():
        # The seller's proof is gone (say, withdrawn after confirming): the records kept under
        # the ID number are no longer told to that account.
        IdentityProof.delete().where(IdentityProof.user == w.seller.id).execute()
        office_service.inspect(
            case.id,
            w.clerk,
            vin_read=typo,
            plate_read=w.vehicle.plate,
            passed=True,
            mismatch_confirmed=True,
        )
    assert "transfer.inspection_failed_seller" not in kinds(w.seller)
    assert kinds(w.buyer)[-1] == "transfer.inspection_failed"
    assert typo in rendered(app, w.buyer)[-1].what  # the VIN read, which differs
