"""Refused checks under a flood: attempts a lock refuses are
counted per (licence, window), not written one row each; the holder's log shows the count; and
each lock speaks its own words while the meta verdict stays "throttled"."""

import re

from models import AuditEvent, LicenceCheck, RefusedCheck

from .helpers import page
from .test_verify import code_at, qr_code_at, qr_url, typed_url, verdict, wrong_typed


def pause_typed_checks(app, el, monkeypatch, ceiling=3):
    """Reach the per-key ceiling from several networks: typed checks of `el` pause for all."""
    from blueprints.licence import checks

    monkeypatch.setattr(checks, "TYPED_KEY_CEILING", ceiling)
    for i in range(ceiling):
        botnet = app.test_client()
        botnet.environ_base["REMOTE_ADDR"] = f"192.0.2.{i + 1}"
        assert verdict(botnet.get(typed_url(el, wrong_typed(el, i)))) == "invalid"


def test_a_flood_of_refused_checks_adds_a_handful_of_rows(
    app, make, login, client, conn, monkeypatch
):
    el = make.elicence()
    pause_typed_checks(app, el, monkeypatch)
    flooder = app.test_client()
    flooder.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    with conn():
        audit_before, checks_before = AuditEvent.select().count(), LicenceCheck.select().count()
    for _ in range(500):
        assert verdict(flooder.get(typed_url(el, code_at(el)))) == "throttled"
    with conn():
        # One audited refusal per window (two if the flood crossed a window's edge).
        assert AuditEvent.select().count() - audit_before <= 2
        assert LicenceCheck.select().count() - checks_before <= 2
        windows = list(RefusedCheck.of("licence", el.id))
        assert 1 <= len(windows) <= 2 and sum(w.count for w in windows) == 500
    # A real check afterwards is logged as always.
    assert verdict(client.get(qr_url(el, qr_code_at(el)))) == "valid"
    login(el.holder)
    text = page(client.get("/licence/checks")).get_text(" ", strip=True)
    more = [int(n) for n in re.findall(r"又有 (\d+) 次核验被拒绝", text)]
    assert sum(more) == 500 - len(windows)  # each window's first refusal has its own line
    assert "驾驶证有效" in text and "失败核验过多" in text
    # A window within one minute says its minute once, not "between 09:07 and 09:07".
    assert not re.search(r"(\d\d:\d\d) 至 \1", text)
    rows = page(client.get("/licence/checks")).select("tbody tr")
    assert len(rows) <= 3 + 1 + 2 * len(windows)  # the guesses, the valid check, the windows


def test_a_locked_client_is_counted_against_the_licence_it_tried(client, make, conn):
    el = make.elicence()
    for i in range(30):
        client.get(f"/verify/check?key=AAAA{i:04d}&code=123456")
    for _ in range(5):
        assert verdict(client.get(qr_url(el, qr_code_at(el)))) == "throttled"
    with conn():
        windows = list(RefusedCheck.of("licence", el.id))
        assert sum(w.count for w in windows) == 5
        # The check log has one line per window of refusals (one window, or two when the
        # refusals straddled a window's edge).
        assert LicenceCheck.select().where(LicenceCheck.elicence == el.id).count() == len(windows)


def test_each_lock_speaks_its_own_words(app, make, monkeypatch):
    el = make.elicence()
    locked = app.test_client()
    for i in range(30):
        locked.get(f"/verify/check?key=AAAA{i:04d}&code=123456")
    response = locked.get(typed_url(el, code_at(el)))
    text = page(response).get_text(" ", strip=True)
    assert verdict(response) == "throttled"
    assert "此地址的核验已暂停" in text and "不说明任何驾驶证的情况" in text
    assert "该驾驶证因多次输入错误电子码" not in text  # not the words of a paused licence

    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "198.51.100.30"
    for i in range(4):
        guesser.get(typed_url(el, wrong_typed(el, i)))
    response = guesser.get(typed_url(el, code_at(el)))
    assert verdict(response) == "throttled"
    assert "来自您网络的输入码核验已暂停" in page(response).get_text(" ", strip=True)

    other = make.elicence()
    pause_typed_checks(app, other, monkeypatch)
    inspector = app.test_client()
    inspector.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    response = inspector.get(typed_url(other, code_at(other)))
    assert verdict(response) == "throttled"
    assert "该驾驶证的输入码核验已暂停" in page(response).get_text(" ", strip=True)
    assert verdict(inspector.get(qr_url(other, qr_code_at(other)))) == "valid"


def test_a_locked_client_on_the_share_page_is_told_so(client):
    for i in range(30):
        client.get(f"/verify/check?key=AAAA{i:04d}&code=123456")
    response = client.get("/verify/share?code=AAAA-BBBB&last6=123456")
    text = page(response).get_text(" ", strip=True)
    assert verdict(response) == "throttled" and "此地址的核验已暂停" in text


def test_refused_truck_pass_checks_are_counted_not_logged_one_by_one(client, make, conn):
    truck_pass = make.truck_pass()
    for i in range(30):  # unknown pass addresses are guesses: they lock the client too
        assert verdict(client.get(f"/p/unknown{i:04d}")) == "invalid"
    with conn():
        audit_before = AuditEvent.select().count()
    for _ in range(100):
        response = client.get(f"/p/{truck_pass.handle}")
        assert verdict(response) == "throttled"
    text = page(response).get_text(" ", strip=True)
    assert "此地址的核验已暂停" in text and truck_pass.plate not in text
    assert verdict(client.get(f"/verify/truck?plate={truck_pass.plate}")) == "throttled"
    with conn():
        assert AuditEvent.select().count() - audit_before <= 2
        assert sum(w.count for w in RefusedCheck.of("truck_pass", truck_pass.id)) == 101
        started = AuditEvent.select().where(
            (AuditEvent.action == "truck_pass.check") & (AuditEvent.result == "throttled")
        )
        assert 1 <= started.count() <= 2
    assert verdict(client.get("/p/unknown9999")) == "throttled"
