"""Views of the accident-evidence pages: the case list, a case and its evidence as an officer or a
party sees them, copies and the access log (the officers' acts are in officer_views.py)."""

from flask import abort, make_response, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import TooManyRequests

from core import templatehelpers
from core.access import login_required, role_required
from core.audit import audit
from core.htmx import redirect_to, render
from core.i18n import localtime
from core.identity import visible_party_cases
from core.privacy import no_personal_data, nothing_to_audit, reads_personal_data
from core.uploads import EXTENSIONS, FILE_CSP
from models import (
    ACCIDENT_OFFICER,
    CITIZEN,
    AccidentCase,
    CaseParty,
    EvidenceAccess,
    User,
    utcnow,
)

from . import bp, copies, period, querycodes, review, service
from .forms import (
    CATEGORY_LABELS,
    KIND_LABELS,
    PARTY_ROLE_LABELS,
    PROCEDURE_LABELS,
    REASON_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
    PartyForm,
    ProgressForm,
    QueryCodeForm,
    ReleaseForm,
    ReviewRequestForm,
    UploadForm,
)
from .labels import FILE_TYPE_LABELS, NEXT_STEPS, REVIEW_STATUS_LABELS

# The label tables, for the evidence templates (and the nav link in base.html).
templatehelpers.add_when_registered(
    bp,
    EV_STATUS=STATUS_LABELS,
    EV_STEPS=STEP_LABELS,
    EV_PROCEDURE=PROCEDURE_LABELS,
    EV_PARTY_ROLE=PARTY_ROLE_LABELS,
    EV_CATEGORY=CATEGORY_LABELS,
    EV_REASON=REASON_LABELS,
    EV_KIND=KIND_LABELS,
    EV_REVIEW_STATUS=REVIEW_STATUS_LABELS,
    EV_FILE_TYPE=FILE_TYPE_LABELS,
)


def case_access_or_404(case_id: int) -> service.CaseAccess:
    """The case as the current user may see it; 404 otherwise (never 403: no hint it exists)."""
    access = service.case_access(case_id, current_user._get_current_object())
    if access is None:
        abort(404)
    return access


def officer_access_or_404(case_id: int) -> service.CaseAccess:
    """The case for an officer's act; 404 for anyone else."""
    access = service.officer_access(case_id, current_user._get_current_object())
    if access is None:
        abort(404)
    return access


def item_or_404(access: service.CaseAccess, item_id: int):
    """An item of the case this user may see; withheld or unopened ones answer 404."""
    item = service.visible_item(access, item_id)
    if item is None:
        abort(404)
    return item


def is_officer_user() -> bool:
    """The current user works accident cases."""
    return current_user.is_staff and current_user.has_role(ACCIDENT_OFFICER)


@bp.get("/")
@role_required(CITIZEN, ACCIDENT_OFFICER)
@reads_personal_data("evidence.case_list")
def index():
    """Citizens: the cases they are a party to. Officers: their brigade's cases."""
    if is_officer_user():
        cases = list(AccidentCase.for_office(current_user.office_id))
        audit("evidence.case_list", detail={"cases": len(cases)})
        return render_template("evidence/office.html", cases=cases)
    nothing_to_audit()
    cases = list(visible_party_cases(current_user))
    return render_template("evidence/mine.html", cases=cases, form=QueryCodeForm())


@bp.route("/open", methods=["GET", "POST"])
@role_required(CITIZEN)
@no_personal_data
def open_with_code():
    """A party opens a case with the case number and query code from the paper notice."""
    form = QueryCodeForm()
    error = None
    user = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            case = querycodes.open_by_code(user, form.case_no.data, form.code.data)
        except querycodes.CodeLocked as locked:
            error = _(
                "Too many wrong codes. Try again after %(time)s (Beijing time).",
                time=localtime(locked.until, "HH:mm"),
            )
        else:
            if case is not None:
                return redirect_to(url_for("evidence.case", case_id=case.id))
            error = _(
                "No case matches this number and code for your ID number. Check both "
                "against the notice."
            )
    status = 422 if (error or form.errors) else 200
    return render("evidence/open.html", "evidence/_code_form.html", status, form=form, error=error)


def case_page(access: service.CaseAccess, status: int = 200, **forms):
    """The case page: facts, progress, parties, evidence; officers get their forms too.

    Drawn again after a refused form (status 422), it is a look at the case like any other,
    logged in the case's access log and the audit log."""
    if status != 200:
        service.log_access(access, "case")
    case = access.case
    context = {
        "access": access,
        "case": case,
        "items": access.visible_items(),
        "review_open": access.review_open,
        "parties": CaseParty.of_case(case.id),
    }
    if access.is_officer:
        context["party_form"] = forms.get("party_form") or PartyForm(formdata=None)
        context["upload_form"] = forms.get("upload_form") or UploadForm(formdata=None)
        context["progress_form"] = forms.get("progress_form") or ProgressForm(formdata=None)
        context.update(officer_steps(case))
    else:
        context.update(party_review_context(access, forms.get("review_form")))
    return make_response(render_template("evidence/case.html", **context), status)


def officer_steps(case) -> dict:
    """The steps the officer is offered, as buttons: none that would only be refused (a review
    under the simple procedure; closing a general-procedure case before its evidence was open
    to the parties, or while they may still ask for a review, which the page says instead)."""
    general = case.procedure == "general"
    steps = [
        s
        for s in sorted(service.CASE_PROGRESS.targets(case.status), key=list(STEP_LABELS).index)
        if not (s == "open_for_review" and not general)
        and not (s == "closed" and general and case.status != "open_for_review")
    ]
    refused = service.closing_refused(case) if "closed" in steps else None
    return {
        "steps": [s for s in steps if not (s == "closed" and refused)],
        "closing_refused": refused,
    }


def party_review_context(access: service.CaseAccess, review_form=None) -> dict:
    """What a party sees of withheld evidence and reviews: the items kept from them (category
    and grounds), the next step, their requests with the answers (the waiting one with its
    withdrawal), and the form while the period runs and no request of theirs waits."""
    case = access.case
    days = period.review_period_days()
    deadline = period.review_deadline(case)
    runs = review.may_request_review(case)
    key = case.status if case.procedure == "general" else "simple"
    if key in ("determination_delivered", "open_for_review") and not runs:
        # No "ask within 3 days" once those days are over; evidence is released only once the
        # case is open for review, so a delivered determination's words say nothing of it.
        key = "review_over" if key == "open_for_review" else "review_over_unreleased"
    next_step = str(NEXT_STEPS[key]) % {
        "days": days,
        "office": case.office.display_name(str(get_locale())),
        "date": deadline,
    }
    requests = review.party_requests(access.party)
    waiting = review.waiting_request(requests)
    # While their request waits, the party is offered its withdrawal, not a second request.
    may_ask = waiting is None and runs
    return {
        "review_period_runs": runs,
        "withheld": review.withheld_items(case) if access.review_open else [],
        "next_step": next_step,
        "review_requests": requests,
        "review_waiting": waiting,
        "review_deadline": deadline,
        # The next step says already that the period ended: the review section need not.
        "period_end_said": key in ("review_over", "review_over_unreleased"),
        "review_form": (review_form or ReviewRequestForm(formdata=None)) if may_ask else None,
    }


@bp.get("/cases/<int:case_id>")
@login_required
@reads_personal_data("evidence.case_view")
def case(case_id: int):
    """A case as its officer or one of its parties sees it (404 for anyone else)."""
    access = case_access_or_404(case_id)
    service.log_access(access, "case")
    return case_page(access)


@bp.get("/cases/<int:case_id>/items/<int:item_id>")
@login_required
@reads_personal_data("evidence.item_page")
def item(case_id: int, item_id: int):
    """One item: what it is, a preview (pictures), a copy to download; officers decide release."""
    access = case_access_or_404(case_id)
    evidence = item_or_404(access, item_id)
    # The page shows no content (that is logged as a view), but officers see who looked.
    audit("evidence.item_page", evidence, detail={"case_no": access.case.case_no})
    return item_page(access, evidence)


def item_page(access, evidence, status: int = 200, release_form=None):
    """The item page (also re-shown with the release form's errors: audited as the page is)."""
    if status != 200:
        audit("evidence.item_page", evidence, detail={"case_no": access.case.case_no})
    context = {"access": access, "case": access.case, "item": evidence, "copies_resume": None}
    if not access.is_officer:
        context["copies_resume"] = copies.copies_paused_until(access.user)
    if access.is_officer:
        if release_form is None:
            release_form = ReleaseForm(formdata=None)
            release_form.release.data = "released" if evidence.released else "withheld"
            release_form.reason.data = evidence.withhold_reason or ""
            release_form.note.data = evidence.withhold_note
        context["release_form"] = release_form
        context["uploader"] = User.get_by_id(evidence.uploaded_by_id)
        context["accesses"] = list(
            EvidenceAccess.of_case(access.case.id).where(EvidenceAccess.item == evidence.id)
        )
    return make_response(render_template("evidence/item.html", **context), status)


def file_response(case_id: int, item_id: int, kind: str):
    """The item's file, logged: the original for officers, a watermarked copy for parties."""
    access = case_access_or_404(case_id)
    evidence = item_or_404(access, item_id)
    if not access.is_officer:
        resume = copies.copies_resume_at(current_user)
        if resume is not None:
            refused = TooManyRequests(retry_after=max(1, int((resume - utcnow()).total_seconds())))
            refused.user_title = _("Copy limit reached")
            refused.user_message = _(
                "You have made many copies of this evidence in the last hour. You can view and "
                "download again from %(time)s.",
                time=localtime(resume, "HH:mm"),
            )
            raise refused
    row = service.log_access(access, kind, evidence)
    data = copies.file_bytes(access, evidence, row)
    response = make_response(data)
    response.mimetype = evidence.mime
    name = f"{access.case.case_no}-{evidence.id}{EXTENSIONS[evidence.mime]}"
    disposition = "attachment" if kind == "download" else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = FILE_CSP
    return response


@bp.get("/cases/<int:case_id>/items/<int:item_id>/view")
@login_required
@reads_personal_data("evidence.item_view")
def view(case_id: int, item_id: int):
    """Show the item in the browser (logged; watermarked for parties)."""
    return file_response(case_id, item_id, "view")


@bp.get("/cases/<int:case_id>/items/<int:item_id>/download")
@login_required
@reads_personal_data("evidence.item_download")
def download(case_id: int, item_id: int):
    """Download a copy of the item (logged; watermarked for parties)."""
    return file_response(case_id, item_id, "download")


@bp.get("/cases/<int:case_id>/log")
@login_required
@reads_personal_data("evidence.log_view")
def access_log(case_id: int):
    """Who looked at what and when: officers see it per case, parties for their own case."""
    access = case_access_or_404(case_id)
    rows = list(EvidenceAccess.of_case(access.case.id).limit(500))
    party_by_rid = {p.resident_id: p for p in access.case.parties}
    # Parties see the titles of the items they may see; a withheld item stays unnamed.
    shown_items = None if access.is_officer else {item.id for item in access.visible_items()}
    audit("evidence.log_view", access.case, detail={"case_no": access.case.case_no})
    return render_template(
        "evidence/log.html",
        access=access,
        case=access.case,
        rows=rows,
        party_by_rid=party_by_rid,
        shown_items=shown_items,
        entry_ids=service.access_entry_ids(rows),
    )
