"""The accident officers' acts on a case's page: opening a case, moving it on, the parties and
their paper notices, uploading evidence and deciding what the parties may see. Each one is the
officer's, on a case of their brigade (404 otherwise), and asks for confirmation before what
cannot be undone.
"""

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from core.access import get_or_404, login_required, role_required
from core.confirm import confirmation_page, confirmed
from core.forms import choices
from core.htmx import redirect_to, render
from core.privacy import no_personal_data
from core.steps import StepError, form_error
from models import ACCIDENT_OFFICER, CaseParty, ReviewRequest
from rules.clock import BEIJING_OFFSET
from rules.validators import ValidationError

from . import bp, querycodes, service
from .forms import (
    REASON_LABELS,
    STATUS_LABELS,
    CaseForm,
    FactsForm,
    PartyForm,
    ProgressForm,
    ReleaseForm,
    UploadForm,
)
from .period import deadline_after
from .views import case_page, item_or_404, item_page, officer_access_or_404


@bp.route("/cases/new", methods=["GET", "POST"])
@role_required(ACCIDENT_OFFICER)
@no_personal_data
def new_case():
    """An officer opens a case in their brigade."""
    form = CaseForm()
    officers = list(service.officers_of(current_user.office_id))
    form.officer.choices = choices((o.id, o.real_name) for o in officers)
    if request.method == "GET":
        form.officer.data = current_user.id
    if form.validate_on_submit():
        try:
            case = service.open_case(
                case_no=form.case_no.data,
                officer_id=form.officer.data,
                occurred_at=form.occurred_at.data,
                place=form.place.data,
                description=form.description.data,
                procedure=form.procedure.data,
                determination_delivered_on=form.determination_delivered_on.data,
                actor=current_user._get_current_object(),
            )
        except StepError as exc:
            form_error(form, exc)
        else:
            flash(_("Case %(no)s opened. Add the parties and the evidence.", no=case.case_no), "ok")
            return redirect_to(url_for("evidence.case", case_id=case.id))
    status = 422 if form.errors else 200
    return render("evidence/new.html", "evidence/_case_form.html", status, form=form)


@bp.route("/cases/<int:case_id>/facts", methods=["GET", "POST"])
@login_required
@no_personal_data
def correct_facts(case_id: int):
    """The handling officer corrects a slip in the case's facts (number, time, place,
    description), with a reason; the parties are told (service.correct_facts)."""
    access = officer_access_or_404(case_id)
    case = access.case
    if case.status == "closed":
        abort(404)
    form = FactsForm(obj=None if request.method == "POST" else case)
    if request.method == "GET":
        form.occurred_at.data = (case.occurred_at + BEIJING_OFFSET).replace(second=0)
    if form.validate_on_submit():
        try:
            changed = service.correct_facts(
                access,
                case_no=form.case_no.data,
                occurred_at=form.occurred_at.data,
                place=form.place.data,
                description=form.description.data,
                reason=form.reason.data,
            )
        except StepError as exc:
            form_error(form, exc)
        else:
            if changed:
                flash(_("The case was corrected and its parties are told."), "ok")
            else:
                flash(_("Nothing was changed: the facts are as they were."), "warn")
            return redirect_to(url_for("evidence.case", case_id=case_id))
    status = 422 if (form.errors or form.form_errors) else 200
    return render_template("evidence/facts.html", case=case, form=form), status


@bp.post("/cases/<int:case_id>/progress")
@login_required
@no_personal_data
def progress(case_id: int):
    """Move the case one step on (an officer's act)."""
    access = officer_access_or_404(case_id)
    case = access.case
    form = ProgressForm()
    if not form.validate_on_submit():
        abort(400)
    if form.to.data == "closed" and not confirmed():
        refused = service.closing_refused(case)
        if refused:  # refused anyway: not asked first
            flash(str(refused), "warn")
            return redirect_to(url_for("evidence.case", case_id=case.id))
        return confirmation_page(
            title=_("Close the case?"),
            message=_(
                "Case %(no)s will be closed: nothing more can be done on it, and it cannot be "
                "opened again.",
                no=case.case_no,
            ),
            back=url_for("evidence.case", case_id=case.id),
            button=_("Yes, close the case"),
        )
    opening = form.to.data == "open_for_review" and case.procedure == "general"
    if opening and form.to.data in service.CASE_PROGRESS.targets(case.status) and not confirmed():
        # Every party is told at once and may copy what is released: asked first.
        released = sum(1 for item in access.visible_items() if item.released)
        return confirmation_page(
            title=_("Open the evidence to the parties?"),
            message=ngettext(
                "The parties of case %(no)s are told at once and can view and copy the "
                "%(num)d released item; withheld items stay withheld. The evidence cannot be "
                "closed to them again.",
                "The parties of case %(no)s are told at once and can view and copy the "
                "%(num)d released items; withheld items stay withheld. The evidence cannot be "
                "closed to them again.",
                released,
                no=case.case_no,
            ),
            back=url_for("evidence.case", case_id=case.id),
            button=_("Yes, open the evidence"),
        )
    day = form.delivered_on.data
    if form.to.data == "determination_delivered" and day and not confirmed():
        # A day refused is said at its field before anything is asked.
        try:
            service.check_delivery_day(case, day)
        except StepError as exc:
            form_error(form, exc)
            return case_page(access, 422, progress_form=form)
        # The day cannot be changed afterwards; under the general procedure it starts the
        # parties' time to ask for a review, and they are told.
        if case.procedure == "general":
            message = _(
                "The determination of case %(no)s is recorded as delivered on %(day)s. The "
                "parties are told, and their time to ask for a review runs from that day "
                "(until %(by)s).",
                no=case.case_no,
                day=day.isoformat(),
                by=deadline_after(day).isoformat(),
            )
        else:
            message = _(
                "The determination of case %(no)s is recorded as delivered on %(day)s; the day "
                "cannot be changed afterwards.",
                no=case.case_no,
                day=day.isoformat(),
            )
        return confirmation_page(
            title=_("Record the delivery?"),
            message=message,
            back=url_for("evidence.case", case_id=case.id),
            button=_("Yes, record the delivery"),
        )
    try:
        service.move_case(access, form.to.data, day)
    except StepError as exc:
        if exc.field:
            form_error(form, exc)
            return case_page(access, 422, progress_form=form)
        flash(str(exc.message), "warn")
    else:
        flash(_("Progress: %(status)s.", status=STATUS_LABELS[case.status]), "ok")
    return redirect_to(url_for("evidence.case", case_id=case.id))


@bp.post("/cases/<int:case_id>/parties")
@login_required
@no_personal_data
def add_party(case_id: int):
    """Add a party to the case (an officer's act)."""
    access = officer_access_or_404(case_id)
    form = PartyForm()
    if form.validate_on_submit():
        try:
            party = service.add_party(
                access,
                name=form.name.data,
                resident_id=form.resident_id.data,
                mobile=form.mobile.data,
                role=form.role.data,
            )
        except StepError as exc:
            form_error(form, exc)
        else:
            flash(
                _("%(name)s added. Print their notice with the query code.", name=party.name), "ok"
            )
            return redirect_to(url_for("evidence.case", case_id=access.case.id) + "#parties")
    return case_page(access, 422, party_form=form)


def party_or_404(access: service.CaseAccess, party_id: int) -> CaseParty:
    """A party of this case, or 404."""
    return get_or_404(CaseParty, (CaseParty.id == party_id) & (CaseParty.case == access.case.id))


@bp.post("/cases/<int:case_id>/parties/<int:party_id>/notice")
@login_required
@no_personal_data
def notice(case_id: int, party_id: int):
    """A printable notice for a party with a new query code (the old code stops working)."""
    access = officer_access_or_404(case_id)
    party = party_or_404(access, party_id)
    if party.query_code_hash and not confirmed():
        return confirmation_page(
            title=_("Print a new notice?"),
            message=_(
                "The new notice has a new query code: the code on the notice printed for "
                "%(name)s before stops working.",
                name=party.name,
            ),
            back=url_for("evidence.case", case_id=access.case.id) + "#parties",
            button=_("Yes, print a new notice"),
        )
    code = querycodes.issue_notice(party, current_user._get_current_object())
    return render_template("evidence/notice.html", case=access.case, party=party, code=code)


@bp.post("/cases/<int:case_id>/parties/<int:party_id>/remove")
@login_required
@no_personal_data
def remove_party(case_id: int, party_id: int):
    """Take a wrongly added party off the case: their access ends at once."""
    access = officer_access_or_404(case_id)
    party = party_or_404(access, party_id)
    back = url_for("evidence.case", case_id=access.case.id) + "#parties"
    if ReviewRequest.waiting_of_party(party.id):  # refused anyway: not asked first
        flash(str(service.PARTY_REVIEW_WAITING), "warn")
        return redirect_to(back)
    if not confirmed():
        return confirmation_page(
            title=_("Remove the party?"),
            message=_(
                "%(name)s will no longer be a party to case %(no)s: their access ends at once, "
                "and adding them again makes a new notice with a new query code.",
                name=party.name,
                no=access.case.case_no,
            ),
            back=back,
            button=_("Yes, remove the party"),
        )
    try:
        service.remove_party(access, party)
    except StepError as exc:
        flash(str(exc.message), "warn")
    else:
        flash(_("%(name)s is no longer a party to this case.", name=party.name), "ok")
    return redirect_to(back)


@bp.post("/cases/<int:case_id>/items")
@login_required
@no_personal_data
def upload(case_id: int):
    """Add an evidence file (an officer's act); a refused file leaves nothing behind."""
    access = officer_access_or_404(case_id)
    form = UploadForm()
    # Every field is judged at once: a missing file is said with a missing title, not after it.
    valid = form.validate_on_submit()
    upload_file = request.files.get(form.file.name)
    if upload_file is None or not upload_file.filename:
        form.file.errors = [*form.file.errors, _("Choose a file.")]
    elif valid:
        try:
            stored = service.store_evidence(upload_file)
        except ValidationError as exc:
            form.file.errors.append(str(exc.message))
        else:
            released = form.release.data == "released"
            service.add_item(
                access,
                stored,
                category=form.category.data,
                title=form.title.data.strip(),
                released=released,
                reason=form.reason.data or None,
                note=(form.note.data or "").strip(),
            )
            flash(_("Evidence added: %(title)s.", title=form.title.data.strip()), "ok")
            return redirect_to(url_for("evidence.case", case_id=access.case.id) + "#items")
    return case_page(access, 422, upload_form=form)


@bp.post("/cases/<int:case_id>/items/<int:item_id>/release")
@login_required
@no_personal_data
def release(case_id: int, item_id: int):
    """Release an item to the parties, or withhold it with a reason (an officer's act)."""
    access = officer_access_or_404(case_id)
    evidence = item_or_404(access, item_id)
    form = ReleaseForm()
    form.current_reason = evidence.withhold_reason or ""
    if form.validate_on_submit():
        released = form.release.data == "released"
        if released and not evidence.released and not confirmed():
            # What the parties saw once cannot be taken from them again: asked first.
            return confirmation_page(
                title=_("Release this item to the parties?"),
                message=_(
                    "The parties of case %(no)s can view and copy “%(title)s” from now on (once "
                    "the evidence is open to them), and are told so. It was withheld: %(reason)s.",
                    no=access.case.case_no,
                    title=evidence.title,
                    reason=REASON_LABELS.get(form.current_reason, form.current_reason),
                ),
                back=url_for("evidence.item", case_id=case_id, item_id=item_id),
                button=_("Yes, release it"),
            )
        service.set_release(
            evidence,
            released,
            form.reason.data or None,
            (form.note.data or "").strip(),
            current_user._get_current_object(),
        )
        flash(_("Released to the parties.") if released else _("Withheld from the parties."), "ok")
        return redirect_to(url_for("evidence.item", case_id=case_id, item_id=item_id))
    return item_page(access, evidence, 422, release_form=form)
