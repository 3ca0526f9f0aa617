"""The questions of the transfer's irreversible steps (core.confirm): confirming or declining a
sale, stopping a case, sending or refusing the archive, registering. One question each, asked
the same way by the case pages (in-database path) and by the origin's outgoing pages (across
deployments)."""

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
        "Declining cancels case %(no)s for good: the sale cannot go on in it. Should buyer and "
        "seller agree again, a new case is opened from the invoice."
    ),
    _l("Yes, decline the sale"),
)
# The same act by a party who had confirmed (until the other confirms, they may withdraw).
WITHDRAW = Question(
    _l("Withdraw from the sale?"),
    _l(
        "You confirmed the sale, and withdrawing cancels case %(no)s for good: the other party "
        "is told, and the sale cannot go on in it. Should you agree again, a new case is opened "
        "from the invoice."
    ),
    _l("Yes, withdraw from the sale"),
)
# The same act by a seller at the origin of a case opened in another city's deployment: the
# buyer's city decides, and a buyer who confirmed there first keeps the sale going.
WITHDRAW_AWAY = Question(
    _l("Withdraw from the sale?"),
    _l(
        "You confirmed the sale. Withdrawing asks the buyer's city to cancel case %(no)s for "
        "good; if the buyer confirmed there first, the sale goes on and you are told so."
    ),
    _l("Yes, withdraw from the sale"),
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


# Confirming commits the party to the sale: the question names what they agree to (the vehicle,
# the price and the other party), as the invoice says it; one question for each party.
_CONFIRM_TITLE = _l("Confirm the sale?")
_CONFIRM_BUTTON = _l("Yes, confirm the sale")
CONFIRM_SALE = {
    "seller": Question(
        _CONFIRM_TITLE,
        _l(
            "You confirm that you sell the vehicle %(plate)s to %(other)s for %(price)s "
            "(case %(no)s)."
        ),
        _CONFIRM_BUTTON,
    ),
    "buyer": Question(
        _CONFIRM_TITLE,
        _l(
            "You confirm that you buy the vehicle %(plate)s from %(other)s for %(price)s "
            "(case %(no)s)."
        ),
        _CONFIRM_BUTTON,
    ),
}
NO_WAY_BACK = _l(
    "Check the plate, the price and the other party against the invoice. Once seller and buyer "
    "have both confirmed, the sale can no longer be withdrawn online."
)


def ask_to_confirm_sale(
    party: str,
    number: str,
    back: str,
    *,
    plate: str,
    price: str,
    other: str,
    final: bool = True,
):
    """The confirmation page of the seller's or buyer's (`party`) confirmation of the sale of
    case `number`, naming the plate, the price and the other party; None when this post
    already is the confirmed one. Not `final` while the other party has not confirmed (the
    party may still withdraw): the page then does not say it cannot be undone."""
    if confirmed():
        return None
    question = CONFIRM_SALE[party]
    words = {"no": number, "plate": plate, "price": price, "other": other}
    return confirmation_page(
        title=question.title,
        message=str(question.message) % words,
        details=[NO_WAY_BACK],
        back=back,
        button=question.button,
        irreversible=final,
    )


def ask_first(question: Question, number: str, back: str, details=(), revise: bool = False):
    """The confirmation page of an irreversible step on case `number` (with a way `back`, or
    with `revise` a way to change what was typed), or None when this post already is the
    confirmed one."""
    if confirmed():
        return None
    return confirmation_page(
        title=question.title,
        message=str(question.message) % {"no": number},
        details=details,
        back=back,
        button=question.button,
        revise=revise,
    )
