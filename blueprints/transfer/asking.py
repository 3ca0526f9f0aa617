"""The questions of the transfer's irreversible steps (core.confirm): declining a sale, stopping
a case, sending or refusing the archive, registering. One question each, asked the same way by
the case pages (in-database path) and by the origin's outgoing pages (across deployments)."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from core.confirm import confirmation_page, confirmed


@dataclass(frozen=True)
class Question:
    """A confirmation page's words: its title, what will happen (naming the case as %(no)s)
    and the button that does it."""

    title: object
    message: object
    button: object


DECLINE = Question(
    _l("Decline the sale?"),
    _l(
        "Declining cancels case %(no)s for good: the sale cannot go on, and a new case "
        "would have to be opened with a new invoice."
    ),
    _l("Yes, decline the sale"),
)
STOP = Question(
    _l("Stop the case?"),
    _l("Stopping closes case %(no)s for good: the vehicle cannot be inspected again in this case."),
    _l("Yes, stop the case"),
)
SEND_ARCHIVE = Question(
    _l("Send the archive?"),
    _l(
        "Sending the archive of case %(no)s transfers the vehicle out of your office: it "
        "is then registered in the other city."
    ),
    _l("Yes, send the archive"),
)
# At the origin of a case opened in another city's deployment, the vehicle stays registered
# here until that city's registration notice arrives (network.py).
SEND_ARCHIVE_AWAY = Question(
    _l("Send the archive?"),
    _l(
        "Sending the archive of case %(no)s lets the other city register the vehicle; it is "
        "transferred out of your office when that city's registration notice arrives. A sent "
        "archive cannot be called back."
    ),
    _l("Yes, send the archive"),
)
REFUSE_ARCHIVE = Question(
    _l("Refuse the archive?"),
    _l("Refusing stops case %(no)s for good. Buyer and seller see your reason."),
    _l("Yes, refuse"),
)
REGISTER = Question(
    _l("Register the vehicle?"),
    _l(
        "Registering case %(no)s makes the buyer the owner, assigns the plate and issues "
        "a new registration certificate."
    ),
    _l("Yes, register to the buyer"),
)


def ask_first(question: Question, number: str, back: str, details=()):
    """The confirmation page of an irreversible step on case `number` (with a way `back`), or
    None when this post already is the confirmed one."""
    if confirmed():
        return None
    return confirmation_page(
        title=question.title,
        message=str(question.message) % {"no": number},
        details=details,
        back=back,
        button=question.button,
    )
