"""Operations statistics: counters kept with each event, and the dashboard, its CSV files, the
public report and `flask stats report` agreeing with each other and with the events made.

The events are made through the real pages and services: e-licences applied for, codes and
share codes checked on the verifier, transfer cases opened and registered, evidence viewed and
downloaded by a party.
"""

import csv
import datetime as dt
import io
import time
from collections import Counter
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup

from blueprints.licence import checks as licence_checks
from blueprints.licence import sharing as licence_sharing
from blueprints.stats.export import safe_cell
from core.audit import audit
from models import (
    AuditEvent,
    ELicence,
    Office,
    StatCounter,
    TransferCase,
    User,
    Vehicle,
    db,
    utcnow,
    write_tx,
)
from models.transfer import REGISTERED
from rules import clock, licencecode, totp
from rules import stats as rules

from .helpers import page, unmasked_ids

EN = {"Accept-Language": "en"}


def beijing_now() -> dt.datetime:
    """Now, Beijing wall-clock time."""
    return rules.beijing(utcnow())


@pytest.fixture
def today(monkeypatch):
    """Today in Beijing, with the clock held at 10:00 Beijing time: inside office hours, so the
    quiet-hours advice has applications to speak of, whatever the hour the suite runs at."""
    day = clock.beijing_today()
    at = clock.beijing_to_utc(dt.datetime.combine(day, dt.time(10, 0)))
    monkeypatch.setattr(clock, "utc_now", lambda: at)
    return day


def counters(conn, **where) -> Counter:
    """{(measure, metric): count} of the counter table, summed over hours and offices."""
    with conn():
        query = StatCounter.select()
        for name, value in where.items():
            query = query.where(getattr(StatCounter, name) == value)
        out = Counter()
        for row in query:
            out[(row.measure, row.metric)] += row.count
        return out


def recount_from_audit_log(conn) -> Counter:
    """What a scan of the audit log gives: {(day, hour, measure, metric): n}."""
    out = Counter()
    with conn():
        for event in AuditEvent.select():
            for pair in rules.counted(event.action, event.result, event.detail_dict):
                out[(*rules.bucket(event.at), *pair)] += 1
    return out


def counter_cells(conn) -> Counter:
    """{(day, hour, measure, metric): n} of the counters (every office together)."""
    out = Counter()
    with conn():
        for row in StatCounter.select():
            out[(row.day, row.hour, row.measure, row.metric)] += row.count
    return out


# --- The table of what counts (pure) ------------------------------------------------------------


def test_what_each_action_counts():
    assert rules.counted("licence.issue") == [("elicence", "issued")]
    assert rules.counted("licence.check", "used-code", {"via": "qr"}) == [
        ("licence_check", "used-code")
    ]
    assert rules.counted("licence.check", "valid", {"via": "share"}) == [
        ("licence_check", "valid"),
        ("share_code", "used"),
    ]
    share_refused = rules.counted("licence.check", "invalid", {"via": "share"})
    assert share_refused == [("licence_check", "invalid"), ("share_code", "refused")]
    assert rules.counted("licence.check", "some-new-verdict") == [("licence_check", "other")]
    assert rules.counted("evidence.item_view", detail={"as_party": True}) == [
        ("evidence", "viewed")
    ]
    assert rules.counted("evidence.item_view", detail={"as_party": False}) == []
    assert rules.counted("truck_pass.approved") == [("truck_pass", "issued")]
    assert rules.counted("login.ok") == [] and rules.counted("stats.view") == []
    # Every pair counted is a metric the dashboard shows.
    for action in rules.ACTION_COUNTERS:
        for measure, metric in rules.counted(action, detail={"as_party": True}):
            assert metric in rules.MEASURES_BY_KEY[measure].metrics


def test_genuine_verdicts_are_the_licence_services():
    assert rules.GENUINE_VERDICTS == licence_checks.GENUINE
    assert set(licence_checks.STANDING_VERDICTS.values()) <= set(rules.CHECK_VERDICTS)


def test_beijing_buckets_match_the_tz_database():
    zone = ZoneInfo("Asia/Shanghai")
    for at in (
        dt.datetime(2021, 9, 1, 0, 30),
        dt.datetime(2021, 8, 31, 16, 0),
        dt.datetime(2024, 3, 31, 18, 59, 59),
        dt.datetime(2026, 11, 25, 23, 5),
    ):
        local = at.replace(tzinfo=dt.UTC).astimezone(zone)
        assert rules.bucket(at) == (local.date(), local.hour)
    assert rules.bucket(dt.datetime(2021, 8, 31, 16, 0)) == (dt.date(2021, 9, 1), 0)
    start, end = rules.utc_bounds(dt.date(2021, 9, 1), dt.date(2021, 9, 2))
    assert (start, end) == (dt.datetime(2021, 8, 31, 16), dt.datetime(2021, 9, 2, 16))


def test_quietest_window_within_office_hours():
    hours = [0] * 24
    assert rules.quietest_window(hours) is None  # nothing to advise
    hours = [50] * 24
    hours[3] = 0  # a quiet night hour is outside office hours
    hours[14] = hours[15] = 5
    assert rules.quietest_window(hours) == 14
    hours[8] = hours[9] = 5
    assert rules.quietest_window(hours) == 8  # ties: the earliest
    hours = [0] * 24
    hours[10] = 3
    assert rules.quietest_window(hours) == 8


def test_busy_hours_are_the_top_third():
    hours = list(range(24))  # the later, the busier
    assert rules.is_busy_hour(hours, 23) and rules.is_busy_hour(hours, 16)
    assert not rules.is_busy_hour(hours, 15) and not rules.is_busy_hour(hours, 0)
    quiet = [0] * 24
    assert not any(rules.is_busy_hour(quiet, h) for h in range(24))
    quiet[11] = 1
    assert rules.is_busy_hour(quiet, 11) and not rules.is_busy_hour(quiet, 12)


def test_median():
    assert rules.median([]) is None
    assert rules.median([3, 1, 2]) == 2 and rules.median([4, 1, 2, 3]) == 2.5


def test_csv_cells_cannot_be_formulas():
    assert safe_cell("=1+2") == "'=1+2" and safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("+86") == "'+86" and safe_cell("-3") == "'-3"
    assert safe_cell(12) == "12" and safe_cell(None) == "" and safe_cell("青岛") == "青岛"


# --- Counters in the event's transaction --------------------------------------------------------


def test_counters_are_kept_with_the_event_and_roll_back_with_it(app, make, conn):
    elicence = make.elicence()
    with app.test_request_context(), conn():
        audit("licence.check", elicence, result="valid", detail={"via": "qr"})
        audit("licence.check", elicence, result="valid", detail={"via": "qr"})
        with pytest.raises(RuntimeError), write_tx():
            audit("licence.check", elicence, result="invalid", detail={"via": "qr"})
            raise RuntimeError("the change fails after its audit row")
        assert AuditEvent.select().where(AuditEvent.result == "invalid").count() == 0
    assert counters(conn) == {("licence_check", "valid"): 2}
    with conn():
        row = StatCounter.get()
        office = Office.get_by_id(elicence.record.issuing_office_id)
        assert row.office == office.code  # counted at the office that keeps the record
    assert counter_cells(conn) == recount_from_audit_log(conn)


def test_a_counted_event_is_one_statement_with_its_office_looked_up_inside(app, make, conn):
    """The office lookup rides in the counter's upsert: with the database on another machine
    a separate lookup would be one more round trip in every check and application."""
    elicence = make.elicence()
    other = make.elicence()  # an e-licence at an office with a row already counted
    statements = []
    with app.test_request_context(), conn(), write_tx():
        audit("licence.check", other, result="valid", detail={"via": "qr"})
        db.obj.query_hooks.append(lambda event: statements.append(event.sql))
        try:
            audit("licence.check", elicence, result="valid", detail={"via": "qr"})
        finally:
            db.obj.query_hooks.pop()
    assert [s.split()[:3] for s in statements] == [
        ["INSERT", "INTO", '"audit_event"'],
        ["INSERT", "INTO", '"stat_counter"'],
    ]
    with conn():
        office = Office.get_by_id(elicence.record.issuing_office_id)
        assert StatCounter.get(StatCounter.office == office.code).count == 2


def test_an_object_without_an_office_counts_at_the_empty_office(app, make, conn):
    citizen = make.citizen()  # no licence record kept under their number
    with app.test_request_context(), conn():
        audit("licence.apply_refused", citizen, result="refused")
    with conn():
        assert [(r.office, r.count) for r in StatCounter.select()] == [("", 1)]


# --- The world of one test: events through the real pages ---------------------------------------


def code_of(elicence) -> str:
    """The current QR code of an e-licence."""
    return licencecode.qr_code(
        elicence.secret, totp.step_at(time.time(), step=licencecode.CODE_STEP_SECONDS)
    )


@pytest.fixture
def world(app, client, make, login, conn, today):
    """Events of every measure made through the real pages and services, and the people in them."""
    office = make.office(code="Q9001", name="测试车管所", name_en="Test Vehicle Office")
    people = []
    # Measure 1: two citizens get their e-licence, one is refused (no licence record).
    holders = []
    for _ in range(2):
        citizen = make.citizen()
        make.licence_record(citizen, issuing_office=office)
        login(citizen)
        assert client.post("/licence/apply", data={}).status_code == 303
        client.post("/logout", data={})
        holders.append(citizen)
    refused = make.citizen()
    login(refused)
    assert client.post("/licence/apply", data={}).status_code == 422
    client.post("/logout", data={})
    people += holders + [refused]
    with conn():
        elicences = [ELicence.get(ELicence.holder == h.id) for h in holders]
    # Checks: valid, the same code again (used), a wrong code (invalid).
    el = elicences[0]
    code = code_of(el)
    client.get(f"/v/{el.handle}/{code}")
    client.get(f"/v/{el.handle}/{code}")
    client.get(f"/v/{el.handle}/{'0' if code[0] != '0' else '1'}{code[1:]}")
    # A share code: a firm sees the licence once, then types a wrong licence number.
    with app.test_request_context(), conn():
        share = licence_sharing.create_share_code(elicences[1], 7, False, "租车公司")
    last6 = holders[1].resident_id[-6:]
    client.get(f"/verify/share?code={share.code}&last6={last6}&firm=租车")
    client.get(f"/verify/share?code={share.code}&last6=000000&firm=租车")
    # Measure 2: one case registered, one only opened.
    w = make.transfer_world()
    make.transfer_case(w, until=REGISTERED)
    second = make.vehicle(w.origin, w.seller)
    make.transfer_case(w, vehicle=second)
    people += [w.seller, w.buyer]
    # Measure 4: a party views and downloads an item; the officer's own look is not a review.
    case = make.accident_case()
    party = make.citizen()
    make.party(case, party)
    item = make.evidence(case)
    login(party)
    base = f"/evidence/cases/{case.id}/items/{item.id}"
    assert client.get(base + "/view").status_code == 200
    assert client.get(base + "/download").status_code == 200
    client.post("/logout", data={})
    login(case.officer)
    assert client.get(base + "/view").status_code == 200
    client.post("/logout", data={})
    people.append(party)
    with conn():
        plates = [v.plate for v in Vehicle.select()] + [
            c.new_plate for c in TransferCase.select() if c.new_plate
        ]
        people = [User.get_by_id(p.id) for p in people]
    admin = make.staff("admin")
    login(admin)
    return SimpleNamespace(
        today=today, office=office, transfer=w, people=people, plates=plates, case=case
    )


EXPECTED = {
    ("elicence", "issued"): 2,
    ("elicence", "refused"): 1,
    ("licence_check", "valid"): 2,  # one QR check, one share code
    ("licence_check", "used-code"): 1,
    ("licence_check", "invalid"): 2,  # a wrong code, a share code with a wrong licence number
    ("share_code", "used"): 1,
    ("share_code", "refused"): 1,
    ("transfer", "opened"): 2,
    ("transfer", "registered"): 1,
    ("evidence", "viewed"): 1,
    ("evidence", "downloaded"): 1,
}


def dashboard(client, **args):
    """The dashboard page (English), parsed and checked."""
    return page(client.get("/stats/", query_string=args, headers=EN))


def html_table(soup, name: str) -> list[list[str]]:
    """A dashboard table as rows of cell texts, header and total line included."""
    table = soup.find("table", attrs={"data-table": name})
    return [
        [c.get_text(strip=True) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")
    ]


def csv_table(client, measure: str, by: str, **args) -> list[list[str]]:
    """A CSV download as rows."""
    response = client.get(f"/stats/export/{measure}/{by}.csv", query_string=args, headers=EN)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def as_dash(row: list[str]) -> list[str]:
    """CSV cells as the HTML shows them (an empty duration is a dash on the page)."""
    return [c if c != "" else "—" for c in row]


def test_counters_match_the_events_and_the_audit_log(world, conn):
    assert counters(conn) == EXPECTED
    assert counter_cells(conn) == recount_from_audit_log(conn)
    # Measure 1 counts at the office keeping the records; transfers at the registering office.
    by_office = counters(conn, office=world.office.code)
    assert by_office[("elicence", "issued")] == 2 and by_office[("licence_check", "valid")] == 2
    dest = counters(conn, office=world.transfer.dest.code)
    assert dest == {("transfer", "opened"): 2, ("transfer", "registered"): 1}


def test_dashboard_csv_report_and_cli_agree(world, client, runner, conn):
    day = world.today.isoformat()
    soup = dashboard(client, since=day, until=day)
    figures = {
        li["data-figure"]: li.find(class_="figure-value").get_text(strip=True)
        for li in soup.select("[data-figure]")
    }
    assert figures["elicence.issued"] == "2"
    assert figures["licence_check.*"] == "5"
    assert figures["share_code.used"] == "1"
    assert figures["transfer.opened"] == "2" and figures["transfer.registered"] == "1"
    assert figures["truck_pass.issued"] == "0"  # the measure is not here yet: a row of zeros
    assert figures["evidence.*"] == "2"

    for measure in rules.MEASURES:
        for by in ("day", "hour", "office"):
            shown = html_table(soup, f"{measure.key}-{by}")
            downloaded = csv_table(client, measure.key, by, since=day, until=day)
            assert [as_dash(r) for r in downloaded] == shown, (measure.key, by)
        # The day table's one row: each metric as counted.
        day_rows = html_table(soup, f"{measure.key}-day")
        today_row = day_rows[1]
        assert today_row[0] == day and day_rows[-1][0] == "Total"
        for i, metric in enumerate(measure.metrics, start=1):
            assert int(today_row[i]) == EXPECTED.get((measure.key, metric), 0), (measure, metric)
        # The hour table adds up to the same totals.
        hours = html_table(soup, f"{measure.key}-hour")
        assert len(hours) == 1 + 24 + 1 and hours[-1] == ["Total", *day_rows[-1][1:]]

    # The public report: the same figures, in sentences and in its table.
    report = page(client.get("/report", headers=EN))
    today = report.find(id="report-today")
    sentences = [li.get_text(" ", strip=True) for li in today.select(".report-sentences li")]
    assert "2 electronic driving licences were issued." in sentences
    assert "Police and firms checked e-licences 5 times." in sentences
    assert "Firms were shown a licence with a share code 1 time." in sentences
    assert (
        "2 cross-region used-car transfers were opened and 1 vehicle was registered and "
        "plated here."
    ) in sentences
    assert "No truck pass code was applied for." in sentences
    assert (
        "Parties to accidents reviewed evidence online 1 time and downloaded 1 copy." in sentences
    )
    # 2 e-licences + 1 registration + 2 evidence reviews, as the news report of day one counted.
    assert "5 transactions went through the four services online." in sentences
    table = {
        tr["data-figure"]: [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in report.select("#report-figures tr[data-figure]")
    }
    assert table["elicence.issued"] == ["2", "0"] and table["licence_check.*"] == ["5", "0"]
    assert table["evidence.downloaded"] == ["1", "0"]

    # The CLI prints the same sentences for the same day.
    result = runner.invoke(args=["stats", "report", "--date", day, "--lang", "en"])
    assert result.exit_code == 0, result.output
    for sentence in sentences:
        assert sentence in result.output
    yesterday = report.find(id="report-yesterday")
    for li in yesterday.select(".report-sentences li"):
        assert li.get_text(" ", strip=True) in result.output
    advice = report.select_one("#when-to-apply .advice").get_text(" ", strip=True)
    assert advice in result.output
    chinese = runner.invoke(args=["stats", "report", "--date", day])
    assert "网上发放电子驾驶证2张" in chinese.output.replace(" ", "")


def test_office_filter(world, client):
    day = world.today.isoformat()
    mine = dashboard(client, since=day, until=day, office=world.office.code)
    figure = mine.select_one('[data-figure="elicence.issued"] .figure-value')
    assert figure.get_text(strip=True) == "2"
    assert mine.select_one('[data-figure="transfer.opened"] .figure-value').get_text() == "0"
    dest = dashboard(client, since=day, until=day, office=world.transfer.dest.code)
    assert dest.select_one('[data-figure="transfer.opened"] .figure-value').get_text() == "2"
    assert dest.select_one('[data-figure="elicence.issued"] .figure-value').get_text() == "0"
    offices = html_table(dashboard(client, since=day, until=day), "elicence-office")
    row = next(r for r in offices if r[0] == "Test Vehicle Office")
    assert row[1:] == ["2", "0"]
    csv_rows = csv_table(
        client, "transfer", "day", since=day, until=day, office=world.transfer.dest.code
    )
    assert csv_rows[1][1:3] == ["2", "1"]


def test_transfer_times_come_from_the_cases(world, client, conn):
    day = world.today.isoformat()
    with conn():
        case = TransferCase.get(TransferCase.state == REGISTERED)
        hours = round((case.registered_at - case.opened_at).total_seconds() / 3600, 1)
    rows = html_table(dashboard(client, since=day, until=day), "transfer-day")
    assert rows[0][-2:] == ["Median time (hours)", "Slowest (hours)"]
    assert rows[1][-2:] == [str(hours), str(hours)]
    figure = dashboard(client, since=day, until=day).select_one(
        '[data-figure="transfer.median_hours"] .figure-value'
    )
    assert figure.get_text(strip=True) == str(hours)


def test_public_report_shows_no_personal_data(world, client, runner):
    day = world.today.isoformat()
    bodies = []
    for headers in ({}, EN):
        response = client.get("/report", headers=headers)
        page(response)  # includes: no resident ID number in full
        bodies.append(response.get_data(as_text=True))
    bodies.append(runner.invoke(args=["stats", "report", "--date", day]).output)
    bodies.append(runner.invoke(args=["stats", "report", "--date", day, "--lang", "en"]).output)
    for body in bodies:
        assert not unmasked_ids(body)
        for person in world.people:
            for value in (person.resident_id, person.real_name, person.mobile, person.username):
                if value:
                    assert value not in body, value
            assert person.resident_id[-6:] not in body and person.resident_id[:6] + "*" not in body
        for plate in world.plates:
            assert plate not in body and plate[2:] not in body
        assert world.case.case_no not in body and world.case.place not in body


def test_dashboard_reading_is_audited_and_htmx_gets_the_body(world, client, conn):
    day = world.today.isoformat()
    response = client.get(
        "/stats/", query_string={"since": day, "until": day}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'id="stats-body"' in body
    csv_table(client, "evidence", "hour", since=day, until=day)
    with conn():
        views = list(
            AuditEvent.select()
            .where(AuditEvent.action.startswith("stats."))
            .order_by(AuditEvent.id)
        )
    assert [e.action for e in views] == ["stats.view", "stats.export"]
    assert views[1].detail_dict["table"] == "evidence/hour"


def test_default_range_is_the_last_30_days(world, client):
    soup = dashboard(client)
    assert soup.find(id="since")["value"] == (world.today - dt.timedelta(days=29)).isoformat()
    assert soup.find(id="until")["value"] == world.today.isoformat()
    rows = html_table(soup, "elicence-day")
    assert len(rows) == 1 + 30 + 1 and rows[-2][0] == world.today.isoformat()
    assert rows[-1][1:] == ["2", "1"]


@pytest.mark.parametrize(
    "args, field",
    [
        ({"since": "2021-09-05", "until": "2021-09-01"}, "until"),
        ({"since": "2020-01-01", "until": "2021-09-01"}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"office": "nowhere"}, "office"),
    ],
)
def test_bad_filters_are_refused_next_to_the_field(client, make, login, args, field):
    login(make.staff("admin"))
    soup = page(client.get("/stats/", query_string=args, headers=EN), 422)
    assert soup.find(id=f"{field}-error").get_text(strip=True)
    assert not soup.select("table")
    assert client.get("/stats/export/elicence/day.csv", query_string=args).status_code == 400


def test_a_bad_date_is_refused_in_the_readers_language(client, make, login):
    login(make.staff("admin"))
    soup = page(client.get("/stats/", query_string={"since": "yesterday"}), 422)
    assert soup.find(id="since-error").get_text(strip=True) == "不是有效的日期值。"


def test_only_administrators_see_the_dashboard(client, make, login):
    assert client.get("/stats/").status_code == 302
    assert client.get("/stats/export/elicence/day.csv").status_code == 302
    login(make.citizen())
    assert client.get("/stats/").status_code == 403
    assert client.get("/stats/export/elicence/day.csv").status_code == 403
    client.post("/logout", data={})
    login(make.staff("licence_clerk"))
    assert client.get("/stats/").status_code == 403
    client.post("/logout", data={})
    login(make.staff("admin"))
    assert client.get("/stats/export/passwords/day.csv").status_code == 404
    assert client.get("/stats/export/elicence/week.csv").status_code == 404
    assert client.get("/report").status_code == 200


def test_csv_office_names_cannot_become_formulas(client, make, login, app, conn, today):
    office = make.office(code="Q9002", name="=HYPERLINK(1)", name_en="=HYPERLINK(1)")
    elicence = make.elicence(issuing_office=office)
    with app.test_request_context(), conn():
        audit("licence.check", elicence, result="valid", detail={"via": "qr"})
    login(make.staff("admin"))
    rows = csv_table(
        client, "licence_check", "office", since=today.isoformat(), until=today.isoformat()
    )
    assert rows[1][0] == "'=HYPERLINK(1)" and rows[1][1] == "1"


def test_busy_hours_need_a_week_of_history():
    assert not rules.enough_history([0, 0, 0, 0, 0, 0, 1])
    assert not rules.enough_history([0, 0, 0, 0, 0, 0, 50])  # one day only
    assert not rules.enough_history([1, 1, 0, 0, 0, 0, 1])  # three days, too few
    assert rules.enough_history([7, 7, 0, 0, 0, 0, 7])


def seed_history(conn, today: dt.date, hour: int, per_day: int = 7, days: int = 3) -> None:
    """Applications counted on the `days` days before today, all in `hour` (Beijing)."""
    with conn():
        for back in range(1, days + 1):
            for _ in range(per_day):
                StatCounter.add(
                    today - dt.timedelta(days=back), hour, "", [("elicence", "refused")]
                )


def test_no_busy_hour_banner_without_history(client, make, login):
    """A city just set up: its first application makes no hour "busy"."""
    login(make.citizen())
    client.post("/licence/apply", data={})
    assert not page(client.get("/licence/")).select('main a[href^="/report"]')


def test_licence_page_links_the_report_in_a_busy_hour(client, make, login, conn, today):
    # A busy hour needs a week's history: three days of it, at another hour. The clock stays
    # at 10:00 (today), so the application and the page that follows are in one hour.
    seed_history(conn, today, 22)
    citizen = make.citizen()  # no licence record: the application is refused, the form stays
    login(citizen)
    soup = page(client.get("/licence/"))
    assert not soup.select('main a[href^="/report"]')
    client.post("/licence/apply", data={})
    # This hour's application puts it in the busiest third of the week's hours.
    soup = page(client.get("/licence/"))
    link = soup.select_one('main a[href^="/report"]')
    assert link is not None and link["href"] == "/report#when-to-apply"


def test_report_is_public_and_cli_takes_any_day(client, runner):
    soup = page(client.get("/report", headers=EN))
    assert soup.h1.get_text(strip=True) == "Daily report of the traffic services online"
    assert "Too few applications" in soup.find(id="when-to-apply").get_text()
    result = runner.invoke(args=["stats", "report", "--date", "2021-09-01", "--lang", "en"])
    assert result.exit_code == 0
    assert "Wednesday, September 1, 2021" in result.output
    assert "0 electronic driving licences were issued." in result.output
    bad = runner.invoke(args=["stats", "report", "--date", "01/09/2021"])
    assert bad.exit_code != 0


def test_report_points_out_the_quietest_hours(app, client, make, conn, today):
    """Applications in every office hour but two: the advice names those two."""
    with conn():
        rows = [
            {
                "day": today - dt.timedelta(days=d),
                "hour": h,
                "office": "",
                "measure": "elicence",
                "metric": "issued",
                "count": 0 if h in (14, 15) else 10,
            }
            for d in range(7)
            for h in range(24)
        ]
        StatCounter.insert_many(rows).execute()
    soup = page(client.get("/report", headers=EN))
    advice = soup.select_one("#when-to-apply .advice").get_text(" ", strip=True)
    assert "between 14:00 and 16:00" in advice
    svg = soup.select_one("#when-to-apply svg")
    assert svg.select_one("rect.highlight") is not None
    assert BeautifulSoup(str(svg), "html.parser").select("g.bar")[14]["data-total"] == "0"


def test_truck_passes_count_at_the_trucks_office(client, make, login, conn):
    from models import StatCounter
    from rules.clock import beijing_today

    owner = make.citizen()
    truck = make.truck(owner)
    zone = make.zone()
    login(owner)
    start = beijing_today() + dt.timedelta(days=1)
    data = {
        "plate": truck.plate,
        "truck_class": "heavy",
        "emission": "china6",
        "zones": [str(zone.id)],
        "start_date": start.isoformat(),
        "end_date": start.isoformat(),
        "windows": "07:00-09:00",
        "purpose": "钢材运输",
    }
    for step in range(1, 6):
        response = client.post("/trucks/apply", data={**data, "step": str(step)})
    assert response.status_code == 303
    with conn():
        office = truck.registration_office.code
        rows = {
            (r.metric, r.office): r.count for r in StatCounter.select() if r.measure == "truck_pass"
        }
    assert rows.get(("applied", office)) == 1 and rows.get(("issued", office)) == 1, rows
