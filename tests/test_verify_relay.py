"""Checks relayed across cities, on two running deployments (each its own server, database and
keys): Qingdao issues the licences, Jinan's verifier is where they are shown. Jinan runs on
PostgreSQL when TEST_DATABASE_URL points at it."""

import datetime as dt
import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from types import SimpleNamespace

import pytest
import segno
from bs4 import BeautifulSoup

from models import AuditEvent, ELicence, LicenceCheck, Office, ShareCode, Throttle, utcnow
from rules import licencecode, totp

from .deployments import Deployment, peer
from .factories import Factory
from .helpers import fresh_database_url, on_postgres
from .nodes import ROOT, Browser, verdict

VERIFIER_PAGE_LIMIT = 8 * 1024


@pytest.fixture(scope="module")
def cities(tmp_path_factory):
    """Qingdao (typing keys QD...) and Jinan (JN...), peered both ways; an inspector of Jinan's
    vehicle office logged in at Jinan's verifier."""
    root = tmp_path_factory.mktemp("relay")
    qingdao = Deployment(root, "qingdao", LICENCE_KEY_PREFIX="QD")
    database = fresh_database_url(root) if on_postgres() else None
    jinan = Deployment(root, "jinan", database, LICENCE_KEY_PREFIX="JN")
    peer(qingdao, jinan)
    peer(jinan, qingdao)
    make = Factory()
    with jinan.database():
        office = Office.get(Office.code == "370100")
        inspector = make.staff("police_inspector", office=office, real_name="王警官")
        phone = Browser()
        phone.post(f"{jinan.url}/login", {"account": inspector.username, "password": make.PASSWORD})
        status, _, _ = phone.post(f"{jinan.url}/login/code", {"code": make.fresh_code(inspector)})
        assert status == 303
    yield qingdao, jinan, phone
    qingdao.stop()
    jinan.stop()


def qingdao_licence(qingdao, points: int = 3) -> SimpleNamespace:
    """A holder of Qingdao with an e-licence whose typing key carries Qingdao's prefix (what
    the tests need of it, read while Qingdao's database is at hand)."""
    with qingdao.database():
        made = Factory().elicence(points=points)
        key = "QD" + made.typing_key[2:]
        ELicence.update(typing_key=key).where(ELicence.id == made.id).execute()
        elicence = ELicence.get_by_id(made.id)
        return SimpleNamespace(
            id=elicence.id,
            typing_key=key,
            handle=elicence.handle,
            secret=elicence.secret,
            licence_no=elicence.record.licence_no,
            mobile=elicence.holder.mobile,
        )


def typed_code(elicence) -> str:
    """The holder's code to type now."""
    return totp.totp(elicence.secret, step=licencecode.CODE_STEP_SECONDS).now()


def qr_link(qingdao, elicence) -> str:
    """The link in the holder's QR now (as the code page draws it)."""
    step = totp.step_at(time.time(), step=licencecode.CODE_STEP_SECONDS)
    return f"{qingdao.url}/v/{elicence.handle}/{licencecode.qr_code(elicence.secret, step)}"


def photo_of(text: str) -> bytes:
    """A photo of a QR (a PNG of it, as the inspector's camera would give the page)."""
    path = f"/tmp/relay-qr-{uuid.uuid4().hex}.png"
    segno.make(text, error="m").save(path, scale=8, border=4)
    with open(path, "rb") as fh:
        data = fh.read()
    os.remove(path)
    return data


def post_photo(browser: Browser, url: str, png: bytes):
    """The verifier's photo form, posted as a phone browser posts it (multipart)."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\nContent-Disposition: form-data; name=photo; filename=qr.png\r\n"
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    try:
        response = browser.opener.open(request, timeout=30)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()
    return response.status, response.headers, response.read().decode()


def assert_verifier_page(deployment, headers, html: str) -> None:
    """What every verifier page owes: no script, not stored, light with its CSS."""
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find("script") and "<script" not in html
    assert "script-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    css = soup.find("link", rel="stylesheet")["href"]
    with urllib.request.urlopen(deployment.url + css, timeout=30) as response:  # noqa: S310
        css_bytes = len(response.read())
    assert len(html.encode()) + css_bytes < VERIFIER_PAGE_LIMIT


def readme_example() -> dict:
    """The README's example for firms ("Proof for firms"), executed: its names."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        text = fh.read().split("**Proof for firms.**", 1)[1]
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in code.splitlines() if line.strip()]) <= 11
    names: dict = {}
    exec(compile(code, "README.md", "exec"), names)  # noqa: S102 - our own documentation
    return names


def test_an_inspector_of_jinan_checks_a_qingdao_licence_by_typed_key(cities):
    qingdao, jinan, phone = cities
    elicence = qingdao_licence(qingdao, points=3)
    key = f"{elicence.typing_key[:4]}-{elicence.typing_key[4:]}"  # as the code page shows it
    url = f"{jinan.url}/verify/check?key={key}&code={typed_code(elicence)}"
    status, headers, html = phone.get(url)
    assert status == 200 and verdict(html) == "valid"
    text = BeautifulSoup(html, "html.parser").get_text(" ")
    assert elicence.licence_no in text  # the full number, as a local inspector sees it
    assert "3 / 12" in text  # and the points
    assert "青岛" in text  # answered by the issuing city
    # The page's English copy names the city in English, as Qingdao's offices name it.
    english = BeautifulSoup(html, "html.parser").find(id="en").get_text(" ")
    assert "issuing city: Qingdao" in english
    assert_verifier_page(jinan, headers, html)
    # The holder at Qingdao sees who checked, from which office, in which city.
    with qingdao.database():
        row = LicenceCheck.get(LicenceCheck.elicence == elicence.id)
        assert (row.checker_kind, row.checker_label, row.checker_office, row.checker_city) == (
            "inspector",
            "王警官",
            "370100",
            "济南",
        )
        assert row.via == "typed" and row.verdict == "valid"
    # The inspector reloads the result: the issuer knows the same inspector (by Jinan's opaque
    # reference to them) and shows the licence again, as Jinan would its own; logged as such.
    status, _, again = phone.get(url)
    assert status == 200 and verdict(again) == "valid"
    assert BeautifulSoup(again, "html.parser").find(class_="shown-again")
    _, _, copied = Browser().get(url)  # anyone else with the same code: already used
    assert verdict(copied) == "used-code"
    with qingdao.database():
        logged = LicenceCheck.select().where(LicenceCheck.elicence == elicence.id)
        verdicts = [c.verdict for c in logged.order_by(LicenceCheck.id)]
        assert verdicts == ["valid", "shown-again", "used-code"]
    holder = Browser()
    holder.post(
        f"{qingdao.url}/login",
        {"account": elicence.mobile, "password": Factory.PASSWORD},
    )
    _, _, log = holder.get(f"{qingdao.url}/licence/checks?hl=en")
    log_text = BeautifulSoup(log, "html.parser").find("tbody").get_text(" ")
    assert "Police inspector" in log_text
    assert "Jinan Vehicle Office" in log_text and "city of Jinan" in log_text  # as Jinan names it


def test_an_inspector_of_jinan_checks_a_qingdao_licence_by_photo(cities):
    qingdao, jinan, phone = cities
    elicence = qingdao_licence(qingdao, points=5)
    png = photo_of(qr_link(qingdao, elicence))
    status, headers, html = post_photo(phone, f"{jinan.url}/verify/photo", png)
    assert status == 200 and verdict(html) == "valid"
    text = BeautifulSoup(html, "html.parser").get_text(" ")
    assert elicence.licence_no in text and "5 / 12" in text
    assert_verifier_page(jinan, headers, html)
    # Once only, network-wide: the same QR from anyone else is used; the same inspector (a
    # reload re-posts the photo) sees the licence shown again.
    status, _, html = post_photo(Browser(), f"{jinan.url}/verify/photo", png)
    assert verdict(html) == "used-code"
    status, _, html = post_photo(phone, f"{jinan.url}/verify/photo", png)
    assert verdict(html) == "valid" and BeautifulSoup(html, "html.parser").find(
        class_="shown-again"
    )
    with qingdao.database():
        logged = LicenceCheck.select().where(LicenceCheck.elicence == elicence.id)
        assert [(c.via, c.verdict) for c in logged.order_by(LicenceCheck.id)] == [
            ("photo", "valid"),
            ("photo", "used-code"),
            ("photo", "shown-again"),
        ]


def test_a_pasted_qr_link_and_an_anonymous_phone_see_the_anonymous_view(cities):
    qingdao, jinan, _ = cities
    elicence = qingdao_licence(qingdao)
    anonymous = Browser()
    link = urllib.parse.quote(qr_link(qingdao, elicence), safe="")
    status, headers, html = anonymous.get(f"{jinan.url}/verify/check?key={link}&code=")
    assert status == 200 and verdict(html) == "valid"
    text = BeautifulSoup(html, "html.parser").get_text(" ")
    assert elicence.licence_no not in text and "/ 12" not in text
    assert elicence.licence_no[-4:] in text  # masked: first 6 and last 4
    assert_verifier_page(jinan, headers, html)
    with qingdao.database():
        row = LicenceCheck.get(LicenceCheck.elicence == elicence.id)
        assert (row.checker_kind, row.checker_city, row.checker_office) == ("anonymous", "济南", "")
        assert row.via == "qr"  # the QR's code, pasted: not a typed code


def test_wrong_relayed_codes_are_counted_at_the_issuer_per_relay_and_client(cities):
    qingdao, jinan, _ = cities
    elicence = qingdao_licence(qingdao)
    wrong = f"{(int(typed_code(elicence)) + 1) % 1_000_000:06d}"
    _, _, html = Browser().get(f"{jinan.url}/verify/check?key={elicence.typing_key}&code={wrong}")
    assert verdict(html) == "invalid"
    with qingdao.database():
        keys = [t.key for t in Throttle.select() if t.key.startswith("typed:")]
        mine = [k for k in keys if k.startswith(f"typed:{elicence.typing_key}:")]
        # Counted per relaying deployment and the client address it reported.
        assert len(mine) == 1 and mine[0].endswith("|127.0.0.1")


# The relay waits NETWORK_CHECK_TIMEOUT_SECONDS (2 s) for the issuer, not urllib's minutes; what
# a request takes beyond that is the loaded machine's, so the bound leaves room for it.
WITHIN_SECONDS = 8.0


def test_the_issuer_stopped_gives_undetermined_within_the_timeout(cities):
    qingdao, jinan, phone = cities
    elicence = qingdao_licence(qingdao)
    url = f"{jinan.url}/verify/check?key={elicence.typing_key}&code={typed_code(elicence)}"
    qingdao.stop()
    try:
        started = time.monotonic()
        status, headers, html = phone.get(url)
        assert time.monotonic() - started < WITHIN_SECONDS
        assert status == 200 and verdict(html) == "undetermined"
        assert "does not mean the licence is invalid" in html or "不代表" in html
        assert_verifier_page(jinan, headers, html)
        api = f"{jinan.url}/api/v1/licence-check?key={elicence.typing_key}&code=123456"
        _, _, body = Browser().get(api)
        assert json.loads(body)["verdict"] == "undetermined"
        # A server that takes the connection and never answers: the 2 s timeout decides.
        with socket.socket() as hung:
            hung.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            hung.bind(("127.0.0.1", qingdao.port))
            hung.listen(8)
            started = time.monotonic()
            _, _, html = phone.get(url)
            assert time.monotonic() - started < WITHIN_SECONDS
            assert verdict(html) == "undetermined"
    finally:
        qingdao.start()


def test_a_verdict_signed_with_another_key_is_refused(cities):
    qingdao, jinan, phone = cities
    elicence = qingdao_licence(qingdao)
    key_file = os.path.join(qingdao.instance, "network", "keys.json")
    shutil.copy(key_file, key_file + ".kept")
    os.remove(key_file)  # Qingdao's server now signs with a new key Jinan never confirmed
    try:
        url = f"{jinan.url}/verify/check?key={elicence.typing_key}&code={typed_code(elicence)}"
        _, _, html = phone.get(url)
        assert verdict(html) == "undetermined"
    finally:
        os.replace(key_file + ".kept", key_file)
    with jinan.database():
        row = (
            AuditEvent.select()
            .where(AuditEvent.action == "licence.check_relayed")
            .order_by(AuditEvent.id.desc())
            .get()
        )
        assert row.result == "undetermined" and '"bad_signature"' in row.detail


def test_a_firm_in_jinan_checks_a_qingdao_share_code_and_keeps_signed_proof(cities):
    qingdao, jinan, _ = cities
    elicence = qingdao_licence(qingdao, points=2)
    with qingdao.database():
        share = ShareCode.create(
            code="QD" + uuid.uuid4().hex[:6].upper(),
            elicence=elicence.id,
            expires_at=utcnow() + dt.timedelta(days=3),
            show_points=True,
        )
    firm = Browser()
    last6 = elicence.licence_no[-6:]
    query = f"code={share.code}&last6={last6}&firm=Rent"
    status, headers, html = firm.get(f"{jinan.url}/verify/share?{query}")
    assert status == 200 and verdict(html) == "valid" and "2 / 12" in html
    assert_verifier_page(jinan, headers, html)
    # The JSON answer carries Qingdao's signed statement: proof a firm keeps and checks later.
    api = f"{jinan.url}/api/v1/licence-check?share={share.code}&last6={last6}&firm=Rent"
    response = urllib.request.urlopen(api, timeout=30)  # noqa: S310
    body = json.loads(response.read())
    token = response.headers["Jiaoguan-Statement"]
    assert body["verdict"] == "valid" and body["issuer"] == qingdao.url
    # As the README shows a firm: its ten-line example, run as written.
    verify_statement = readme_example()["verify_statement"]
    claims = verify_statement(token, body["issuer"])
    assert claims["iss"] == qingdao.url and claims["verdict"] == "valid"
    assert claims["licence"]["points"] == 2 and claims["checker"]["city"] == "济南"
    # Against another deployment's keys (a forgery's), the same proof does not verify.
    with pytest.raises(Exception):  # noqa: B017,PT011 - joserfc's error for a key it lacks
        verify_statement(token, jinan.url)
    with qingdao.database():
        rows = LicenceCheck.select().where(LicenceCheck.elicence == elicence.id)
        assert [(r.checker_kind, r.checker_label, r.checker_city) for r in rows] == [
            ("firm", "Rent", "济南"),
            ("firm", "Rent", "济南"),
        ]


def test_qingdao_checks_its_own_keys_itself(cities):
    qingdao, _, _ = cities
    elicence = qingdao_licence(qingdao)
    url = f"{qingdao.url}/verify/check?key={elicence.typing_key}&code={typed_code(elicence)}"
    _, _, html = Browser().get(url)
    assert verdict(html) == "valid"
    with qingdao.database():
        row = LicenceCheck.get(LicenceCheck.elicence == elicence.id)
        assert row.checker_city == ""  # a check made here: no other city to name
