"""The electronic driving licence's declaration (core.measures): its links, cards, audit
labels, demo data and statistics."""

from flask_babel import lazy_gettext as _l

from core.measures import Card, Link, Measure, staff, typed_reason
from models import LICENCE_CLERK, POLICE_INSPECTOR, ELicence, LicenceRecord
from rules.validators import mask_id

from . import bp
from .demo import load_demo
from .labels import STATUS_LABELS, VERDICT_LABELS


def elicence_number(object_id: str) -> str | None:
    """An e-licence as its holder knows it: by its licence's number, masked (the id means
    nothing to anyone, and a receipt is no place for the whole number)."""
    if not object_id.isdigit():
        return None
    found = (
        ELicence.select(LicenceRecord.licence_no)
        .join(LicenceRecord)
        .where(ELicence.id == int(object_id))
        .tuples()
        .first()
    )
    return mask_id(found[0]) if found else None


MEASURE = Measure(
    name="licence",
    blueprint=bp,
    links=(
        Link("licence.index", _l("My e-licence")),
        Link("licence.records", _l("Licence records"), staff(LICENCE_CLERK)),
    ),
    staff_cards=(
        Card(
            "licence.records",
            _l("Licence records"),
            _l("Search, view and change driving-licence records; add photos."),
            staff(LICENCE_CLERK),
            more=(("licence.correction_queue", _l("Name correction requests")),),
        ),
        # The verifier is shared with truck passes, but a logged-in inspector checks licences.
        Card(
            "verify.form",
            _l("Check a licence"),
            _l("Scan or type a driver's code: you see the full licence number and the points."),
            staff(POLICE_INSPECTOR),
        ),
    ),
    home_card=Card(
        "licence.index",
        _l("Electronic driving licence"),
        _l(
            "Show your licence and a time-limited code on your phone at a roadside check, at the "
            "vehicle office and when handling a violation. Valid nationwide."
        ),
    ),
    object_names={"ELicence": elicence_number},
    audit_labels={
        "licence.issue": _l("E-licence issued"),
        "licence.apply_refused": _l("E-licence refused"),
        "licence.reveal": _l("Full licence number shown"),
        "licence.codes_reset": _l("All licence codes revoked"),
        "licence.check": _l("Licence checked"),
        "licence.check_relayed": _l("Licence of another city checked at its issuer"),
        "licence.share_create": _l("Share code created"),
        "licence.share_cancel": _l("Share code cancelled"),
        "licence.search": _l("Licence records searched"),
        "licence.record_view": _l("Licence record viewed"),
        "licence.correction_queue": _l("Name-correction requests listed"),
        "licence.photo_view": _l("Licence photo viewed by staff"),
        "licence.photo": _l("Licence photo uploaded"),
        "licence.import": _l("Licence records imported"),
        "licence.mobile_set": _l("Recorded mobile number set"),
        "licence_record.suspended": _l("Licence suspended"),
        "licence_record.revoked": _l("Licence revoked"),
        "licence_record.cancelled": _l("Licence cancelled"),
        "licence_record.valid": _l("Licence restored"),
        "licence.record_corrected": _l("Licence record corrected"),
        "licence.name_correction_requested": _l("Name correction asked for"),
        "licence.correction_queue_view": _l("Name correction requests viewed"),
        "name_correction.approved": _l("Name correction approved"),
        "name_correction.refused": _l("Name correction refused"),
    },
    # A clerk's reason for a change of standing or a correction, as they wrote it.
    audit_reasons={
        action: typed_reason
        for action in (
            "licence_record.suspended",
            "licence_record.revoked",
            "licence_record.cancelled",
            "licence_record.valid",
            "licence.record_corrected",
            "name_correction.refused",
        )
    },
    demo=load_demo,
    # A check's verdict; a refused application's reason (its record's standing, or why not).
    result_labels={
        **STATUS_LABELS,
        **VERDICT_LABELS,
        "identity-unproven": _l("Identity not proven"),
        "no-record": _l("No licence record"),
        "name-mismatch": _l("Name differs from the record"),
    },
    statistics=("elicence", "licence_check", "share_code"),
)
