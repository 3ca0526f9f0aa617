"""The accident evidence review's declaration (core.measures): its links, cards, audit labels,
demo data and statistics."""

from flask_babel import lazy_gettext as _l

from core.measures import Card, Link, Measure, coded_reason, staff
from models import ACCIDENT_OFFICER, AccidentCase, EvidenceItem

from . import bp
from .demo import load_demo
from .forms import REASON_LABELS


def case_number(object_id: str) -> str | None:
    """An accident case's number (its case file's), as its parties and officers know it."""
    case = (
        AccidentCase.get_or_none(AccidentCase.id == int(object_id)) if object_id.isdigit() else None
    )
    return case.case_no if case is not None else None


def cases_numbered(typed: str) -> list[str]:
    """The ids of the accident cases a case number names, as the audit page searches."""
    query = AccidentCase.select(AccidentCase.id).where(AccidentCase.case_no == typed.strip()[:40])
    return [str(case.id) for case in query]


def item_title(object_id: str) -> str | None:
    """An evidence item by its title (现场图), as the case page lists it."""
    item = (
        EvidenceItem.get_or_none(EvidenceItem.id == int(object_id)) if object_id.isdigit() else None
    )
    return item.title if item is not None else None


MEASURE = Measure(
    name="evidence",
    blueprint=bp,
    links=(
        Link("evidence.index", _l("My accident cases")),
        Link("evidence.index", _l("Accident cases"), staff(ACCIDENT_OFFICER)),
    ),
    staff_cards=(
        Card(
            "evidence.index",
            _l("Accident cases"),
            _l("Open cases, add the parties, upload evidence and decide what the parties may see."),
            staff(ACCIDENT_OFFICER),
            more=(("evidence.review_queue", _l("Review requests")),),
        ),
    ),
    home_card=Card(
        "evidence.index",
        _l("Accident evidence online"),
        _l(
            "Parties to an accident view and copy the scene diagram, survey records and appraisal "
            "opinions online."
        ),
    ),
    audit_labels={
        "evidence.review_requested": _l("Review of evidence asked for"),
        "evidence.review_answered": _l("Review request answered"),
        "evidence.review_withdrawn": _l("Review request withdrawn"),
        "evidence.review_queue_view": _l("Review requests viewed"),
        "evidence.case_open": _l("Accident case opened"),
        "evidence.case_corrected": _l("Accident case facts corrected"),
        "evidence.case.evidence_gathered": _l("Accident case: evidence gathered"),
        "evidence.case.determination_delivered": _l("Accident case: determination delivered"),
        "evidence.case.open_for_review": _l("Accident case: evidence opened for review"),
        "evidence.case.closed": _l("Accident case closed"),
        "evidence.case_view": _l("Accident case viewed"),
        "evidence.party_add": _l("Party added to an accident case"),
        "evidence.party_remove": _l("Party removed from an accident case"),
        "evidence.notice": _l("Query code issued to a party"),
        "evidence.code_ok": _l("Accident case opened with a query code"),
        "evidence.code_failed": _l("Wrong accident case number or query code"),
        "evidence.item_upload": _l("Evidence uploaded"),
        "evidence.item_release": _l("Evidence released to the parties"),
        "evidence.item_withhold": _l("Evidence withheld from the parties"),
        "evidence.item_page": _l("Evidence item page opened"),
        "evidence.item_view": _l("Evidence viewed"),
        "evidence.item_download": _l("Copy of evidence downloaded"),
        "evidence.log_view": _l("Accident case access log viewed"),
        "evidence.case_list": _l("Brigade's accident cases listed"),
        "evidence.review_queue": _l("Review requests listed"),
    },
    audit_reasons={"evidence.item_withhold": coded_reason(REASON_LABELS)},
    demo=load_demo,
    statistics=("evidence",),
    object_names={"AccidentCase": case_number, "EvidenceItem": item_title},
    object_finders={"AccidentCase": cases_numbered},
)
