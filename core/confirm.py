"""Confirmation of irreversible acts: a real page that works without script.

An irreversible act (declining a sale, sending an archive, cancelling a licence...) is posted
twice: the first post, without `confirmed=yes`, answers a page that says what will happen and
cannot be undone, with a form that posts the same fields again plus the confirmation, and a
way back. Nothing is written by the first post, also when htmx posted it (the page then
replaces the body). Views use it as

    if not confirmed():
        return confirmation_page(title=..., message=..., action=request.path, back=...)
"""

from flask import make_response, render_template, request

from core.htmx import is_htmx

CONFIRM_FIELD = "confirmed"
# Fields never carried over to the confirmation form (the token is written afresh).
NOT_CARRIED = {"csrf_token", CONFIRM_FIELD}


def confirmed() -> bool:
    """True when this post is the second one, made from the confirmation page."""
    return request.form.get(CONFIRM_FIELD) == "yes"


def revising() -> bool:
    """True when the person chose, on a confirmation page that offers it, to change what they
    typed: the view draws its form again with the fields posted back."""
    return request.form.get(CONFIRM_FIELD) == "no"


def confirmation_page(
    *,
    title,
    message,
    back: str,
    button,
    status: int = 200,
    details=(),
    irreversible=True,
    revise: bool = False,
):
    """The page that asks for confirmation, re-posting the form's own fields to this URL.

    `details` are extra lines (e.g. the reason typed) shown under the message. An act that
    can be undone later (`irreversible=False`: deactivating an account, which activation
    reverses) is not called irreversible. With `revise`, the way back posts the fields again
    (`revising()`), so that what was typed comes back in its form to be changed, instead of a
    link to `back` that would lose it.
    """
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in NOT_CARRIED]
    html = render_template(
        "main/confirm.html",
        title=title,
        message=message,
        details=list(details),
        action=request.path,
        fields=fields,
        back=back,
        button=button,
        irreversible=irreversible,
        revise=revise,
    )
    response = make_response(html, status)
    response.vary.add("HX-Request")
    if is_htmx():
        # Asked from a form that htmx posts: the question is a page of its own, not a piece of
        # the panel the form would have swapped, so it takes the whole body (its form posts
        # without htmx, and its way back is a link).
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
    return response
