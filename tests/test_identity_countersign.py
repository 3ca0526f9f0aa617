"""Four eyes at the counter (blueprints/identity/countersign.py): activating an account is
confirmed by a second counter clerk's user name and current authenticator code, used once; a
clerk's wrong countersignatures pause that clerk, never the colleague named."""

import pytest

from blueprints.identity.countersign import WRONG_PER_CLERK, WRONG_PER_WITNESS
from models import AuditEvent, IdentityProof, Notice
from rules import totp

from .helpers import field_error, page
from .test_identity import counter_reference, register

EN = {"Accept-Language": "en"}


@pytest.fixture
def counter(app, client, make):
    """A citizen who registered and reads out their reference, and a clerk logged in at the
    counter; returns (citizen, clerk, the clerk's client, the activation form's data)."""
    citizen = register(client, make.resident_id(1985), name="周敏")
    data = {
        "activate-account": citizen.id,
        "activate-reference": counter_reference(client),
        "activate-seen_card": "y",
    }
    clerk = make.staff("licence_clerk")
    clerk_client = app.test_client()
    make.login(clerk_client, clerk)
    return citizen, clerk, clerk_client, data


def activate(clerk_client, data, **countersign):
    fields = {f"activate-{name}": value for name, value in countersign.items()}
    return clerk_client.post("/staff/identity/activate", data={**data, **fields}, headers=EN)


def test_a_second_clerk_confirms_and_both_are_recorded(counter, make, conn):
    citizen, clerk, clerk_client, data = counter
    witness = make.staff("vehicle_clerk", real_name="李娜")
    done = activate(
        clerk_client, data, witness=witness.username, witness_code=make.fresh_code(witness)
    )
    assert done.status_code == 303
    with conn():
        assert IdentityProof.proves(citizen)
        signed = AuditEvent.get(AuditEvent.action == "identity.countersigned")
        # The second clerk confirmed with their own code: the confirmation is theirs.
        assert signed.actor_id == witness.id and signed.result == "ok"
        assert signed.object_id == str(citizen.id) and clerk.username in signed.detail
        activated = AuditEvent.get(AuditEvent.action == "identity.counter_activated")
        assert "李娜" in activated.detail


def test_the_audit_page_names_the_second_clerk(app, counter, make):
    _citizen, clerk, clerk_client, data = counter
    witness = make.staff("vehicle_clerk")
    activate(clerk_client, data, witness=witness.username, witness_code=make.fresh_code(witness))
    admin = app.test_client()
    make.login(admin, make.staff("admin"))
    rows = page(admin.get("/staff/audit", headers=EN)).find(id="audit-rows").get_text(" ")
    # The activation names its second clerk; their confirmation is theirs, and says for whom.
    assert f"Second clerk: {witness.real_name}" in rows
    assert f"Confirmed for {clerk.username}: activating the account" in rows
    # A search for the second clerk finds what they confirmed.
    found = page(admin.get(f"/staff/audit?actor={witness.username}", headers=EN))
    rows = found.find(id="audit-rows").get_text(" ")
    assert f"Confirmed for {clerk.username}: activating the account" in rows
    assert "Second clerk:" not in rows


@pytest.mark.parametrize(
    "who", ["self", "truckpass_clerk", "stranger", "wrong-code", "other-office", "admin-clerk"]
)
def test_nobody_but_another_counter_clerk_with_a_current_code_confirms(counter, make, conn, who):
    citizen, clerk, clerk_client, data = counter
    if who == "self":
        # Their own current code (the one their login used: refused on the name, before any
        # code is looked at, so no new one is waited for).
        own = totp.totp(clerk.totp_secret, step=totp.AUTHENTICATOR_STEP_SECONDS).now()
        fields = {"witness": clerk.username, "witness_code": own}
    elif who == "truckpass_clerk":
        other = make.staff("truckpass_clerk")
        fields = {"witness": other.username, "witness_code": make.fresh_code(other)}
    elif who == "stranger":
        fields = {"witness": "nobody-here", "witness_code": "123456"}
    elif who == "other-office":  # a clerk of another city cannot have seen the card here
        other = make.staff("licence_clerk", office=make.office(city="济南", code="370100"))
        fields = {"witness": other.username, "witness_code": make.fresh_code(other)}
    elif who == "admin-clerk":  # made before administrators were kept off the counter
        other = make.staff("admin", "licence_clerk")
        fields = {"witness": other.username, "witness_code": make.fresh_code(other)}
    else:
        other = make.staff("licence_clerk")
        right = make.fresh_code(other)
        fields = {"witness": other.username, "witness_code": f"{(int(right) + 1) % 10**6:06d}"}
    refused = page(activate(clerk_client, data, **fields), 422)
    # A code serves once at most: it is not sent back for the second clerk to clear.
    assert refused.find(id="activate-witness_code").get("value", "") == ""
    error = field_error(refused, "activate-witness") or field_error(
        refused, "activate-witness_code"
    )
    # Said alike (and counted alike) for every name but one's own: the refusal tells nobody
    # where a colleague works.
    assert ("other than you" if who == "self" else "clerk of your office") in error
    with conn():
        assert not IdentityProof.proves(citizen)


def test_a_code_confirms_once(counter, make, client, conn):
    _citizen, _clerk, clerk_client, data = counter
    witness = make.staff("licence_clerk")
    code = make.fresh_code(witness)
    assert (
        activate(clerk_client, data, witness=witness.username, witness_code=code).status_code == 303
    )
    # Another person at the counter, the same code typed again: refused.
    client.post("/logout", data={})
    second = register(client, make.resident_id(1990), name="吴刚", mobile="13812340000")
    again = {
        **data,
        "activate-account": second.id,
        "activate-reference": counter_reference(client),
    }
    refused = page(activate(clerk_client, again, witness=witness.username, witness_code=code), 422)
    assert "clerk of your office" in field_error(refused, "activate-witness_code")
    with conn():
        assert not IdentityProof.proves(second)


def test_wrong_confirmations_pause_the_clerk_and_then_the_name_never_a_login(
    app, counter, make, client
):
    _citizen, clerk, clerk_client, data = counter
    colleague, other = make.staff("licence_clerk"), make.staff("vehicle_clerk")
    for _ in range(WRONG_PER_CLERK):
        activate(clerk_client, data, witness=colleague.username, witness_code="000000")
    # This clerk is paused, whoever they name...
    paused = page(
        activate(clerk_client, data, witness=other.username, witness_code=make.fresh_code(other)),
        422,
    )
    assert "Too many confirmations" in field_error(paused, "activate-witness_code")
    # ... another clerk is not, with the same colleague.
    second_clerk = app.test_client()
    make.login(second_clerk, make.staff("licence_clerk"))
    done = activate(
        second_clerk, data, witness=colleague.username, witness_code=make.fresh_code(colleague)
    )
    assert done.status_code == 303
    # The colleague named logs in as ever (make.login asserts the 303s of both steps).
    make.login(app.test_client(), colleague)


def test_many_clerks_cannot_guess_one_colleagues_code(app, make, counter, conn):
    _citizen, _clerk, _clerk_client, data = counter
    colleague = make.staff("licence_clerk")
    guesses = 0
    while guesses < WRONG_PER_WITNESS:  # from clerks who each stay under their own limit
        guesser = app.test_client()
        make.login(guesser, make.staff("licence_clerk"))
        for _ in range(min(WRONG_PER_CLERK - 1, WRONG_PER_WITNESS - guesses)):
            activate(guesser, data, witness=colleague.username, witness_code="000000")
            guesses += 1
    fresh = app.test_client()
    make.login(fresh, make.staff("vehicle_clerk"))
    refused = page(
        activate(fresh, data, witness=colleague.username, witness_code=make.fresh_code(colleague)),
        422,
    )
    assert "Too many confirmations" in field_error(refused, "activate-witness_code")
    make.login(app.test_client(), colleague)  # their login is untouched
    with conn():  # and they are told, once
        told = Notice.select().where(
            (Notice.user == colleague.id) & (Notice.kind == "identity.countersign_paused")
        )
        assert told.count() == 1


def test_an_authenticator_not_set_up_confirms_nothing(counter, make, conn):
    """A clerk whose authenticator setup was not finished (a new account, or one an
    administrator reset): the secret on the setup page is nobody's second factor yet."""
    citizen, _clerk, clerk_client, data = counter
    unfinished = make.staff("licence_clerk", totp_enrolled_at=None)
    refused = page(
        activate(
            clerk_client,
            data,
            witness=unfinished.username,
            witness_code=make.fresh_code(unfinished),
        ),
        422,
    )
    assert "clerk of your office" in field_error(refused, "activate-witness_code")
    with conn():
        assert not IdentityProof.proves(citizen)
