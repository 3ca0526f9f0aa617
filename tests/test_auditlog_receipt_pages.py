"""Receipts for the people the log is about: the holder's check log, a party's case access
log and a transfer's timeline link each entry to a receipt page and its JSON, which
docs/verify_receipt.py verifies as its own process; other people get 404, and a receipt
shows its reader only what their own page shows (no checker's address)."""

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from models import AuditEvent, db
from models.transfer import AWAITING_INSPECTION
from rules import licencecode, totp
from rules.validators import mask_id

from .helpers import page
from .test_audit import integrate_now
from .test_auditlog_receipt import run_script

CHECKER_ADDR = "203.0.113.77"


def _check(client, el):
    """One roadside check of the licence's QR code, from a distinctive address."""
    code = licencecode.qr_code(
        el.secret, totp.step_at(time.time(), step=licencecode.CODE_STEP_SECONDS)
    )
    client.environ_base["REMOTE_ADDR"] = CHECKER_ADDR
    client.get(f"/v/{el.handle}/{code}")
    client.environ_base.pop("REMOTE_ADDR")


def _download(client, link, tmp_path, name="receipt.json"):
    """The JSON behind a receipt page's download link, saved to a file."""
    soup = page(client.get(link))
    response = client.get(soup.find(id="receipt-download")["href"])
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    path = tmp_path / name
    path.write_bytes(response.data)
    return json.loads(response.data), path


def test_the_holder_gets_a_receipt_of_each_check_that_verifies_offline(
    app, client, make, login, tmp_path
):
    el = make.elicence()
    _check(client, el)
    login(el.holder)
    link = page(client.get("/licence/checks")).select_one("tbody a")["href"]
    # Not integrated yet: the page says so, and the download leads back to it.
    pending = page(client.get(link))
    assert pending.find(id="receipt-pending") and not pending.find(id="receipt-download")
    assert client.get(link + ".json").status_code == 303
    integrate_now(app)
    soup = page(client.get(link))
    text = soup.get_text(" ", strip=True)
    assert "审计日志" in text and "verify_receipt.py" in text and "扫码" in text
    assert soup.find(id="receipt-unwitnessed")  # one deployment: nobody cosigns
    # The e-licence is named by its licence's number, masked (its id means nothing to anyone).
    entry = soup.find(id="receipt-entry")
    names = [t.get_text(strip=True) for t in entry.find_all("dt")]
    about = dict(zip(names, entry.find_all("dd"), strict=True))["对象"].get_text(strip=True)
    assert mask_id(el.record.licence_no) in about and el.record.licence_no not in about
    receipt, path = _download(client, link, tmp_path)
    raw = path.read_text()
    assert CHECKER_ADDR not in raw and '"client_addr"' in receipt["leaf"]  # sealed, not shown
    assert set(receipt["disclosed"]) == {"detail.via", "detail.checker"}
    done = run_script(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"detail.via": "qr"' in done.stdout and CHECKER_ADDR not in done.stdout
    assert "not witnessed yet" in done.stdout
    # The command the page gives names the log's key: run as given, it says whose log it is.
    command = soup.find(id="receipt-command").get_text()
    keys = re.findall(r"--key '([^']+)'", command)
    assert keys
    named = run_script(path, *[arg for key in keys for arg in ("--key", key)])
    assert named.returncode == 0 and "pass --key" not in named.stdout
    # The admin's full receipt still holds the address, and `flask audit verify` recomputes it.
    with app.app_context(), db.connection_context():
        event = AuditEvent.get(AuditEvent.action == "licence.check")
        assert event.client_addr == CHECKER_ADDR and event.salt
    full = app.test_cli_runner().invoke(args=["audit", "prove", str(event.seq)])
    assert json.loads(full.output)["disclosed"]["client_addr"]["value"] == CHECKER_ADDR
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0

    # Tampering: a disclosed value, the leaf, the path, the checkpoint.
    def tampered(**change):
        path.write_text(json.dumps({**receipt, **change}))
        return run_script(path).returncode

    disclosed = json.loads(json.dumps(receipt["disclosed"]))
    disclosed["detail.via"]["value"] = "typed"
    assert tampered(disclosed=disclosed) == 1
    assert tampered(leaf=receipt["leaf"].replace('"result":"valid"', '"result":"revoked"')) == 1
    assert tampered(leaf_index=-1) == 1  # the same path leads to the root from -1 in some trees
    assert tampered(audit_path=["AAAA" + h[4:] for h in receipt["audit_path"]] or ["AA=="]) == 1
    origin, size, rest = receipt["checkpoint"].split("\n", 2)
    assert tampered(checkpoint=f"{origin}\n{int(size) + 1}\n{rest}") == 1


def test_the_receipt_page_serves_the_checker_script_itself(app, client, make, login, tmp_path):
    """Nothing from elsewhere is needed: the page links the deployment's copy of the script,
    and that copy verifies the downloaded receipt."""
    el = make.elicence()
    _check(client, el)
    integrate_now(app)
    login(el.holder)
    link = page(client.get("/licence/checks")).select_one("tbody a")["href"]
    receipt, path = _download(client, link, tmp_path)
    script_link = page(client.get(link)).select_one("a[href$='verify_receipt.py']")["href"]
    client.get("/logout")
    served = client.get(script_link)  # public: a script, no personal data
    assert served.status_code == 200 and "attachment" in served.headers["Content-Disposition"]
    assert served.data == (Path(__file__).parent.parent / "docs" / "verify_receipt.py").read_bytes()
    script = tmp_path / "verify_receipt.py"
    script.write_bytes(served.data)
    done = subprocess.run(
        [sys.executable, "-I", str(script), str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_another_citizen_gets_404_for_the_holders_receipt(app, client, make, login):
    el = make.elicence()
    _check(client, el)
    integrate_now(app)
    with app.app_context(), db.connection_context():
        entry = AuditEvent.get(AuditEvent.action == "licence.check").id
        login_entry = AuditEvent.select().where(AuditEvent.action != "licence.check").first()
    other = make.elicence()
    login(other.holder)
    for url in (f"/licence/checks/{entry}/receipt", f"/licence/checks/{entry}/receipt.json"):
        assert client.get(url).status_code == 404
    # An entry of another kind is no check of anyone's licence.
    if login_entry is not None:
        assert client.get(f"/licence/checks/{login_entry.id}/receipt").status_code == 404
    client.post("/logout", data={})
    login(el.holder)
    page(client.get(f"/licence/checks/{entry}/receipt"), 200)


def test_a_party_gets_receipts_of_the_case_access_log(app, client, make, login, tmp_path):
    case = make.accident_case()
    make.evidence(case)
    first, second = make.party(case), make.party(case)
    other_citizen = make.citizen()
    # The second party opens the case; the first reads the log and its receipt.
    login(make_user(app, second))
    client.environ_base["REMOTE_ADDR"] = CHECKER_ADDR
    page(client.get(f"/evidence/cases/{case.id}"))
    client.environ_base.pop("REMOTE_ADDR")
    integrate_now(app)
    client.post("/logout", data={})
    login(make_user(app, first))
    soup = page(client.get(f"/evidence/cases/{case.id}/log"))
    link = soup.select_one("tbody a[href*='/receipt']")["href"]
    # The receipt names the case by its number, as the party knows it.
    shown = page(client.get(link, headers={"Accept-Language": "en"})).find(id="receipt-entry")
    names = [t.get_text(strip=True) for t in shown.find_all("dt")]
    about = dict(zip(names, shown.find_all("dd"), strict=True))["About"]
    assert about.get_text(strip=True) == f"Accident case {case.case_no}"
    receipt, path = _download(client, link, tmp_path)
    assert CHECKER_ADDR not in path.read_text()
    assert set(receipt["disclosed"]) <= {"detail.case", "detail.as_party"}
    assert run_script(path).returncode == 0
    with app.app_context(), db.connection_context():
        read = AuditEvent.select().where(AuditEvent.action == "audit.receipt_view")
        assert read.count() == 3  # the page twice and the JSON: another party's look, read
    client.post("/logout", data={})
    login(other_citizen)
    assert client.get(link).status_code == 404
    assert client.get(link.replace("/receipt", "/receipt.json")).status_code == 404
    # The case's officer, whose log page shows addresses, gets every field.
    client.post("/logout", data={})
    with app.app_context(), db.connection_context():
        officer = type(case).get_by_id(case.id).officer
    login(officer)
    receipt, path = _download(client, link, tmp_path, "officer.json")
    assert receipt["disclosed"]["client_addr"]["value"] == CHECKER_ADDR
    assert run_script(path).returncode == 0


def test_a_party_gets_no_receipt_of_a_look_at_a_withheld_item(app, client, make, login, tmp_path):
    """The log page says "an item not shown to the parties"; the entry names the item, so its
    receipt is the officer's only."""
    case = make.accident_case()
    withheld = make.evidence(case, released=False, title="未公开的证据")
    party = make.party(case)
    with app.app_context(), db.connection_context():
        officer = type(case).get_by_id(case.id).officer
    login(officer)
    assert client.get(f"/evidence/cases/{case.id}/items/{withheld.id}/view").status_code == 200
    integrate_now(app)
    with app.app_context(), db.connection_context():
        entry = (
            AuditEvent.select()
            .where(
                AuditEvent.object_type == "EvidenceItem", AuditEvent.object_id == str(withheld.id)
            )
            .get()
        )
    link = f"/evidence/cases/{case.id}/log/{entry.id}/receipt"
    assert client.get(link).status_code == 200
    client.post("/logout", data={})
    login(make_user(app, party))
    assert client.get(link).status_code == 404
    assert client.get(link + ".json").status_code == 404


def make_user(app, party):
    """The account of a party row (matched by ID number)."""
    from models import User

    with app.app_context(), db.connection_context():
        return User.get(User.resident_id == party.resident_id)


def test_the_buyer_gets_receipts_of_the_timeline(app, client, make, login, tmp_path):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    integrate_now(app)
    login(w.buyer)
    soup = page(client.get(f"/transfer/cases/{case.id}"))
    links = [a["href"] for a in soup.select(".timeline a.receipt")]
    # opened, confirmed by the seller, by the buyer, and so by both (to inspection)
    assert len(links) == 4
    assert "双方" in page(client.get(links[3])).get_text()  # the step's receipt says what it was
    receipt, path = _download(client, links[0], tmp_path)
    assert json.loads(receipt["leaf"])["action"] == "transfer.open"
    assert "actor" not in receipt["disclosed"] and "client_addr" not in receipt["disclosed"]
    done = run_script(path)
    assert done.returncode == 0, done.stdout
    client.post("/logout", data={})
    login(make.citizen())
    assert client.get(links[0]).status_code == 404
    # An entry of another case, through this case's address: 404 too.
    other = make.transfer_case(make.transfer_world())
    integrate_now(app)
    with app.app_context(), db.connection_context():
        foreign = AuditEvent.get(
            (AuditEvent.action == "transfer.open") & (AuditEvent.object_id == str(other.id))
        )
    client.post("/logout", data={})
    login(w.buyer)
    assert client.get(f"/transfer/cases/{case.id}/receipt/{foreign.id}").status_code == 404
    # A clerk's receipt discloses the role that made the step: in words, not its key.
    client.post("/logout", data={})
    login(w.market_clerk)
    shown = page(client.get(links[0])).find(id="receipt-entry").get_text(" ", strip=True)
    assert "二手车交易市场工作人员" in shown and "market_clerk" not in shown


def test_a_clerks_receipt_of_a_citizens_step_shows_no_account(app, client, make, login, tmp_path):
    """A citizen's account name is their mobile number, which the case page never shows the
    clerk: the clerk's receipt of the buyer's step keeps it sealed."""
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    integrate_now(app)
    login(w.clerk)
    links = [
        a["href"]
        for a in page(client.get(f"/transfer/cases/{case.id}")).select(".timeline a.receipt")
    ]
    assert links
    for n, link in enumerate(links):
        receipt, path = _download(client, link, tmp_path, f"r{n}.json")
        assert "actor" not in receipt["disclosed"] and "role" in receipt["disclosed"]
        assert w.buyer.mobile not in path.read_text() and w.seller.mobile not in path.read_text()
        assert run_script(path).returncode == 0


def test_a_receipt_names_the_case_by_its_number_and_shows_no_empty_rows(app, client, make, login):
    """The object is the case the reader knows (ZY000007), not its internal id; a field with
    no value (a citizen's step has no office code) has no row, in either language."""
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    integrate_now(app)
    login(w.buyer)
    links = [
        a["href"]
        for a in page(client.get(f"/transfer/cases/{case.id}")).select(".timeline a.receipt")
    ]
    # The buyer's own confirmation: a citizen's step, made at no office.
    with app.app_context(), db.connection_context():
        mine = AuditEvent.get(
            (AuditEvent.action == "transfer.confirm") & (AuditEvent.actor_id == w.buyer.id)
        )
    [link] = [href for href in links if href.endswith(f"/receipt/{mine.id}")]
    for language, kind, office in (("en", "Transfer case", "Office"), ("zh-CN", None, None)):
        soup = page(client.get(link, headers={"Accept-Language": language}))
        entry = soup.find(id="receipt-entry")
        rows = dict(
            zip(
                [dt.get_text(strip=True) for dt in entry.find_all("dt")],
                [dd.get_text(strip=True) for dd in entry.find_all("dd")],
                strict=True,
            )
        )
        assert all(rows.values()), rows
        about = list(rows.values())[2]
        assert case.number in about and about.split()[-1] != str(case.id)
        if kind:
            assert about == f"{kind} {case.number}" and office not in rows
