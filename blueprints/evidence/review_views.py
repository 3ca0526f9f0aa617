"""Pages of reviews (复核): a party asks on the case page, the brigade's officers answer from
their queue, and the party reads the answer on the case page. Views only translate HTTP:
form -> step (blueprints.evidence.review) -> StepError into a form error or a flash."""

from flask import flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.access import role_required
from core.audit import audit
from core.htmx import redirect_to
from core.privacy import no_personal_data, reads_personal_data
from core.steps import StepError, form_error
from models import ACCIDENT_OFFICER, CITIZEN

from . import bp, review
from .forms import ReviewAnswerForm, ReviewRequestForm
from .views import case_access_or_404, case_page


@bp.post("/cases/<int:case_id>/review")
@role_required(CITIZEN)
@no_personal_data
def request_review(case_id: int):
    """A party asks for a review of the case's withheld evidence, within the period."""
    access = case_access_or_404(case_id)
    form = ReviewRequestForm()
    if form.validate_on_submit():
        try:
            review.request_review(access, form.grounds.data)
        except StepError as exc:
            form_error(form, exc)
        else:
            flash(_("Your request for a review has been sent to the handling officer."), "ok")
            return redirect_to(url_for("evidence.case", case_id=case_id) + "#reviews")
    return case_page(access, 422, review_form=form)


@bp.get("/reviews")
@role_required(ACCIDENT_OFFICER)
@reads_personal_data("evidence.review_queue")
def review_queue():
    """Review requests of this brigade's cases waiting for an answer."""
    rows = [
        (item, ReviewAnswerForm(prefix=f"r{item.id}", formdata=None))
        for item in review.officer_queue(current_user.office_id)
    ]
    # The rows name parties and their grounds: reading them is logged.
    audit("evidence.review_queue_view", detail={"n": len(rows)})
    return render_template("evidence/reviews.html", rows=rows)


@bp.post("/reviews/<int:request_id>/answer")
@role_required(ACCIDENT_OFFICER)
@no_personal_data
def answer_review(request_id: int):
    """Answer one review request; the party reads the answer on the case page."""
    form = ReviewAnswerForm(prefix=f"r{request_id}")
    if not form.validate_on_submit():
        flash(_("Write the answer the party will read."), "bad")
        return redirect_to(url_for("evidence.review_queue"))
    try:
        review.answer_review(request_id, current_user._get_current_object(), form.answer.data)
    except StepError as exc:
        flash(str(exc.message), "bad")
    else:
        flash(_("Answered. The party reads your answer on the case page."), "ok")
    return redirect_to(url_for("evidence.review_queue"))
