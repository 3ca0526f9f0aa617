"""A forgotten password reset with a code sent by SMS to the account's mobile: the same answer
whether or not an account exists, the code good once and only for this, wrong codes and
sends throttled, every session of the account ended."""

import re

from models import AuditEvent, Notice, User

from .helpers import field_error, page

NEW = "Harbour-Lantern-77"


def code_sent_to(sms_box, mobile: str) -> str:
    texts = [m["text"] for m in sms_box.messages(keep=None) if m["mobile"] == mobile]
    return re.search(r"\d{6}", texts[0]).group(0)


def reset(client, code, password=NEW):
    """Step two, for the account step one named (kept in the client's session)."""
    data = {"code": code, "password": password, "confirm": password}
    return client.post("/password/reset", data=data)


def wrong(code: str, n: int = 1) -> str:
    return f"{(int(code) + n) % 10**6:06d}"


def test_a_citizen_resets_a_forgotten_password_and_other_sessions_end(
    app, client, make, conn, sms_box
):
    citizen = make.citizen()
    elsewhere = app.test_client()
    make.login(elsewhere, citizen)
    assert "/password/forgot" in page(client.get("/login")).find(id="forgot-link")["href"]
    # By ID number: it never goes into an address or back into a page.
    asked = client.post("/password/forgot", data={"account": citizen.resident_id})
    assert asked.status_code == 303 and asked.location == "/password/reset"
    # The session cookie is only signed: the account in it is sealed.
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    readable = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert "reset_account" in readable and citizen.resident_id not in str(readable)
    step_two = page(client.get(asked.location))
    assert "**" in step_two.find(id="reset-account").get_text()
    code = code_sent_to(sms_box, citizen.mobile)
    refused = page(reset(client, wrong(code)), 422)
    assert field_error(refused, "code")
    # The account's own other identifier is refused as a password (only the typed one was known),
    # once the code is right; the right code keeps its tries, however often the password is.
    for _ in range(6):
        own = page(reset(client, code, password=f"x{citizen.mobile}y"), 422)
        assert field_error(own, "password")
    assert reset(client, code).status_code == 303
    assert elsewhere.get("/account").status_code == 302  # that session ended
    assert make.login(client, citizen, password=NEW) is not None
    client.post("/password/forgot", data={"account": citizen.mobile})
    assert reset(client, code).status_code == 422  # the code was good once
    with conn():
        actions = [e.action for e in AuditEvent.select().where(AuditEvent.actor_id == citizen.id)]
        assert "account.password_reset_sent" in actions and "account.password_reset" in actions
        told = Notice.select().where(
            (Notice.user == citizen.id) & (Notice.kind == "account.password_changed")
        )
        assert told.count() == 1


def test_nobody_learns_whether_an_account_exists(app, client, make, sms_box):
    """The same page, and the same locks: wrong codes count per client network only, so five of
    them lock an unknown account's reset exactly as a real one's."""
    citizen = make.citizen()
    known = client.post("/password/forgot", data={"account": citizen.mobile})
    other = app.test_client()
    unknown = other.post("/password/forgot", data={"account": "13900000000"})
    assert known.status_code == unknown.status_code == 303
    assert (
        page(client.get(known.location)).find(id="code-sent").get_text()
        == page(other.get(unknown.location)).find(id="code-sent").get_text()
    )
    assert [m["mobile"] for m in sms_box.messages(keep=None)] == [citizen.mobile]
    assert client.get("/password/reset").status_code == 200
    assert app.test_client().get("/password/reset").location == "/password/forgot"


def test_a_staff_account_is_not_reset_here(client, make, sms_box):
    clerk = make.staff("licence_clerk", mobile="13700001234")
    assert client.post("/password/forgot", data={"account": clerk.username}).status_code == 303
    assert client.post("/password/forgot", data={"account": "13700001234"}).status_code == 303
    assert sms_box.messages(keep=None) == []


def test_a_strangers_wrong_guesses_kill_one_code_not_the_owners_reset(
    app, client, make, conn, sms_box
):
    """A stranger's wrong guesses use up one code, not the owner's right to reset: the owner's
    next code works from their own device."""
    citizen = make.citizen()
    stranger = app.test_client()
    stranger.post("/password/forgot", data={"account": citizen.mobile})
    code = code_sent_to(sms_box, citizen.mobile)
    for n in range(1, 6):
        assert reset(stranger, wrong(code, n)).status_code == 422
    assert reset(stranger, code).status_code == 422  # right, but the code's tries are used up
    with conn():
        assert User.get_by_id(citizen.id).password_hash == citizen.password_hash
    # The owner, from another network, asks again and resets.
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    owner.post("/password/forgot", data={"account": citizen.mobile})
    texts = [m["text"] for m in sms_box.messages(keep=None) if m["mobile"] == citizen.mobile]
    assert len(texts) == 2
    assert reset(owner, re.search(r"\d{6}", texts[0]).group(0)).status_code == 303


def test_a_code_is_good_only_in_the_session_that_asked_for_it(app, make, conn, sms_box):
    """A stranger who asks for codes and guesses cannot touch the code the owner asked for:
    their guesses go to their own session's code, their requests replace none of the owner's,
    and the owner's code does not work in the stranger's session even when right. Once the
    owner has reset, a code another session asked for opens nothing."""
    citizen = make.citizen()
    owner, other, stranger = app.test_client(), app.test_client(), app.test_client()
    for n, client in enumerate((owner, other, stranger)):
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n + 5}"
        client.post("/password/forgot", data={"account": citizen.mobile})
    texts = [m["text"] for m in sms_box.messages(keep=None) if m["mobile"] == citizen.mobile]
    # Newest first: the stranger's, the other session's, the owner's.
    others_code, owners_code = (re.search(r"\d{6}", t).group(0) for t in texts[1:3])
    for n in range(1, 6):
        assert reset(stranger, wrong(owners_code, n)).status_code == 422
    assert reset(stranger, owners_code).status_code == 422  # the owner's, in another session
    with conn():
        assert User.get_by_id(citizen.id).password_hash == citizen.password_hash
    assert reset(owner, owners_code).status_code == 303
    assert reset(other, others_code, password="Another-pass-2026").status_code == 422


def test_wrong_codes_lock_the_network_and_the_lock_is_said_in_chinese(client, make, sms_box):
    client.post("/password/forgot", data={"account": make.citizen().mobile})
    for _ in range(20):
        reset(client, "000000")
    words = field_error(page(reset(client, "000000"), 422), "code")
    assert "验证码错误次数过多" in words and "请在北京时间" in words


def test_a_reset_by_a_number_never_tied_to_the_person_withdraws_the_identity(
    app, client, make, conn, sms_box
):
    """Holding the number proves the number, not the person: a proven account whose mobile was
    only typed at registration (proven at the counter, say) is reset, and sees nothing kept
    under the ID number until it proves again. One whose number a code proved keeps it."""
    from core.identity import identity_proven
    from models import IdentityProof, Notice

    untied = make.citizen(proven=False)
    make.proof(untied, method="counter")
    tied = make.citizen()  # proven by a code to its own number
    for citizen in (untied, tied):
        someone = app.test_client()
        someone.post("/password/forgot", data={"account": citizen.mobile})
        done = reset(someone, code_sent_to(sms_box, citizen.mobile))
        assert done.status_code == 303
        told = "再次核验身份" in page(someone.get(done.location)).get_text()
        with conn():
            fresh = User.get_by_id(citizen.id)
            assert told == (citizen is untied)
            assert identity_proven(fresh) == (citizen is tied)
            withdrawn = Notice.select().where(
                (Notice.user == citizen.id) & (Notice.kind == "identity.withdrawn")
            )
            assert withdrawn.exists() == (citizen is untied)
            assert IdentityProof.select().where(IdentityProof.user == citizen.id).exists() == (
                citizen is tied
            )


def test_without_the_code_the_password_rule_says_nothing_of_the_account(app, client, make, sms_box):
    """A password holding the account's other identifier is refused only once the code is
    right: before, a wrong code gives the same answer as for an account that does not exist,
    so nobody links an ID number to a mobile by trying passwords. The identifier typed is
    refused in a password for every account, existing or not."""
    citizen = make.citizen()
    client.post("/password/forgot", data={"account": citizen.resident_id})
    guess = f"Zq{citizen.mobile}!"
    known = page(reset(client, "000000", password=guess), 422)
    other = app.test_client()
    other.post("/password/forgot", data={"account": "110101199003074477"})
    unknown = page(reset(other, "000000", password=guess), 422)
    assert field_error(known, "code") == field_error(unknown, "code") != ""
    assert field_error(known, "password") == field_error(unknown, "password") == ""
    typed = page(reset(other, "000000", password="Zq110101199003074477!"), 422)
    assert field_error(typed, "password")


def test_the_owners_own_address_keeps_its_count_of_sends(app, make, sms_box):
    """Strangers asking for the owner's codes use up the strangers' count; from an address the
    owner logged in from, a code is still sent."""
    citizen = make.citizen()
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "203.0.113.5"
    make.login(owner, citizen)
    for n in range(4):
        stranger = app.test_client()
        stranger.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        stranger.post("/password/forgot", data={"account": citizen.mobile})
    assert len(texts_to(sms_box, citizen.mobile)) == 3  # the fourth stranger was sent nothing
    owner.post("/password/forgot", data={"account": citizen.mobile})
    assert len(texts_to(sms_box, citizen.mobile)) == 4


def texts_to(sms_box, mobile):
    return [m for m in sms_box.messages(keep=None) if m["mobile"] == mobile]


def test_the_reset_page_masks_an_account_typed_with_spaces_as_every_page_does():
    from blueprints.auth.views import masked_account

    assert masked_account("370212 19800101 1236") == "370212********1236"
    assert masked_account("139 1234 0000") == masked_account("13912340000")
    assert masked_account("139-1234-0000") == masked_account("13912340000")
    assert masked_account("+86 139 1234 0000") == masked_account("13912340000")
