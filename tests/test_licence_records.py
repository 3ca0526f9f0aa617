"""Licence clerks: search, audited views, status changes, photos, and the CSV import."""

import io
import re

from models import AuditEvent, LicenceRecord

from .helpers import page, tiny_png

PNG = tiny_png()


def test_search_and_view_are_audited(client, make, login, conn):
    record = make.licence_record(name="张三丰")
    make.licence_record(name="李四")
    clerk = make.staff("licence_clerk")
    login(clerk)
    soup = page(client.get("/licence/records?q=张"))
    rows = soup.select("#records tbody tr")
    assert len(rows) == 1 and "张三丰" in rows[0].get_text()
    # The search box shows back the number the clerk typed; the audit log keeps it masked.
    soup = page(
        client.get(f"/licence/records?q={record.licence_no}"), allow_ids=(record.licence_no,)
    )
    assert len(soup.select("#records tbody tr")) == 1
    with conn():
        searched = AuditEvent.select().where(AuditEvent.action == "licence.search")
        assert all(record.licence_no not in row.detail for row in searched)
    fragment = client.get("/licence/records?q=李", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).startswith('<div id="records"')
    page(client.get(f"/licence/records/{record.id}"))
    with conn():
        view = AuditEvent.get(AuditEvent.action == "licence.record_view")
        assert view.object_id == str(record.id) and view.actor_id == clerk.id
    assert client.get("/licence/records/99999").status_code == 404


def test_only_licence_clerks(client, make, login):
    record = make.licence_record()
    login(make.staff("vehicle_clerk"))
    assert client.get("/licence/records").status_code == 403
    assert client.get(f"/licence/records/{record.id}").status_code == 403


def test_status_change_with_reason(client, make, login, conn):
    record = make.licence_record()
    login(make.staff("licence_clerk"))
    response = client.post(f"/licence/records/{record.id}/status", data={"action": "suspended"})
    soup = page(response, 422)
    assert soup.find(id="reason-error")
    response = client.post(
        f"/licence/records/{record.id}/status", data={"action": "suspended", "reason": "醉驾"}
    )
    assert response.status_code == 303
    with conn():
        fresh = LicenceRecord.get_by_id(record.id)
        assert fresh.status == "suspended" and fresh.status_reason == "醉驾"
        row = AuditEvent.get(AuditEvent.action == "licence_record.suspended")
        assert row.detail_dict == {"from": "valid", "to": "suspended", "reason": "醉驾"}
    # Not a move the table allows from "suspended": refused, nothing changes.
    response = client.post(
        f"/licence/records/{record.id}/status", data={"action": "suspended", "reason": "x"}
    )
    assert response.status_code == 422
    restored = client.post(
        f"/licence/records/{record.id}/status",
        data={"action": "valid", "reason": "期满"},
        follow_redirects=True,
    )
    with conn():
        assert LicenceRecord.get_by_id(record.id).status == "valid"
    # The message names the state the licence is in, not the act ("恢复正常").
    assert "驾驶证已变更为：有效。" in page(restored).get_text()


def test_photo_upload_checks_the_content(client, make, login, conn):
    record = make.licence_record()
    login(make.staff("licence_clerk"))
    bad = client.post(
        f"/licence/records/{record.id}/photo",
        data={"photo": (io.BytesIO(b"<html>hi</html>"), "photo.png")},
        content_type="multipart/form-data",
    )
    soup = page(bad, 422)
    assert "不接受" in soup.find(id="photo-error").get_text()
    good = client.post(
        f"/licence/records/{record.id}/photo",
        data={"photo": (io.BytesIO(PNG), "../../evil.png")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 303
    with conn():
        photo = LicenceRecord.get_by_id(record.id).photo
    assert photo.startswith("photos/") and "evil" not in photo
    assert client.get(f"/licence/records/{record.id}/photo").get_data() == PNG
    # An inspector sees a holder's photo only through a check of their code: not by record id.
    client.post("/logout", data={})
    login(make.staff("police_inspector"))
    assert client.get(f"/licence/records/{record.id}/photo").status_code == 403


HEADER = (
    "licence_no,file_no,name,sex,birth_date,nationality,address,classes,"
    "first_issue_date,valid_from,valid_until,points,status\n"
)


def csv_text(make) -> tuple[str, list[str]]:
    ids = [make.resident_id(1980 + i) for i in range(3)]
    from rules.validators import birth_date_from_resident_id, sex_from_resident_id

    def row(rid, file_no, classes="C1", name="王五", like=None):
        sex = "男" if sex_from_resident_id(like or rid) == "M" else "女"
        birth = birth_date_from_resident_id(like or rid).isoformat()
        return (
            f"{rid},{file_no},{name},{sex},{birth},中国,青岛市,{classes},"
            f"2010-01-01,2020-01-01,2030-01-01,0,valid\n"
        )

    bad_id = ids[2][:-1] + ("0" if ids[2][-1] != "0" else "1")
    text = (
        HEADER
        + row(ids[0], "370200100001")
        + row(ids[1], "370200100002", classes="C1 Z9")  # unknown class
        + row(bad_id, "370200100003", like=ids[2])  # wrong check digit
        + row(ids[0], "370200100004")  # duplicate of line 2
        + row(ids[2], "370200100005", classes='"A2,D"')
    )
    return text, ids


def test_csv_import_reports_and_never_imports_twice(app, make, runner, tmp_path, conn):
    office = make.office()
    text, ids = csv_text(make)
    path = tmp_path / "records.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["licence", "import", str(path), "--office", office.code])
    # Rows were rejected: the exit status says so.
    assert result.exit_code == 1, result.output
    assert "imported 2, already there 0, rejected 3" in result.output
    assert "line 3" in result.output and "unknown class: Z9" in result.output
    assert "line 4" in result.output and "bad ID number" in result.output
    assert "line 5" in result.output and "duplicate of line 2" in result.output
    assert ids[0] not in result.output  # masked in the report
    assert not re.search(r"[\u4e00-\u9fff]", result.output)  # one language: English
    with conn():
        assert LicenceRecord.get(LicenceRecord.licence_no == ids[2]).classes == "A2 D"
    # Without --office: the city's one vehicle office (a second one would have to be named).
    again = runner.invoke(args=["licence", "import", str(path)])
    assert "imported 0, already there 2, rejected 3" in again.output
    make.office()
    named = runner.invoke(args=["licence", "import", str(path)])
    assert named.exit_code == 2 and "2 vehicle offices here" in named.output
    with conn():
        assert LicenceRecord.select().count() == 2
        assert AuditEvent.select().where(AuditEvent.action == "licence.import").count() == 2


def test_csv_import_takes_an_optional_mobile_column(app, make, runner, tmp_path, conn):
    """The recorded mobile (where identity codes go) is checked, and a later run may add it."""
    office = make.office()
    text, ids = csv_text(make)
    lines = text.splitlines()
    header, good, third = lines[0] + ",mobile", lines[1] + ",+86 136-0000-1111", lines[5]
    path = tmp_path / "mobiles.csv"

    def run(third_mobile):
        path.write_text("\n".join([header, good, third + "," + third_mobile]) + "\n", "utf-8")
        return runner.invoke(args=["licence", "import", str(path), "--office", office.code])

    assert "imported 2, already there 0, rejected 0" in run("").output
    with conn():
        assert LicenceRecord.get(LicenceRecord.licence_no == ids[0]).mobile == "13600001111"
        assert LicenceRecord.get(LicenceRecord.licence_no == ids[2]).mobile is None
    result = run("12345")
    assert "rejected 1" in result.output and "bad mobile" in result.output
    result = run("13900002222")
    assert "already there 1, rejected 0, recorded mobile added or changed 1" in result.output
    with conn():
        assert LicenceRecord.get(LicenceRecord.licence_no == ids[2]).mobile == "13900002222"


def test_points_above_a_cycle_are_rejected_and_a_clean_file_exits_0(make, runner, tmp_path):
    office = make.office()
    text, _ids = csv_text(make)
    header, first = text.splitlines()[:2]
    path = tmp_path / "points.csv"
    path.write_text(f"{header}\n{first.replace(',0,valid', ',15,valid')}\n", encoding="utf-8")
    result = runner.invoke(args=["licence", "import", str(path), "--office", office.code])
    assert result.exit_code == 1 and "points out of range (0 to 12)" in result.output
    path.write_text(f"{header}\n{first.replace(',0,valid', ',12,valid')}\n", encoding="utf-8")
    result = runner.invoke(args=["licence", "import", str(path), "--office", office.code])
    assert result.exit_code == 0 and "imported 1, already there 0, rejected 0" in result.output


def test_search_by_id_number_posts_and_leaves_no_id_number_in_the_access_log(app, make, tmp_path):
    import re

    from .nodes import TOKEN_RE, Browser, Node

    records = [make.licence_record() for _ in range(3)]
    clerk = make.staff("licence_clerk")
    log = tmp_path / "access.log"
    node = Node(
        app.config["DATABASE_URL"],
        str(tmp_path),
        workers=1,
        GUNICORN_CMD_ARGS=f"--access-logfile {log}",
    )
    try:
        browser = Browser()
        form = {"account": clerk.username, "password": make.PASSWORD}
        assert browser.post(f"{node.url}/login", form)[0] == 303
        code = make.fresh_code(clerk)
        assert browser.post(f"{node.url}/login/code", {"code": code})[0] == 303
        _, _, html = browser.get(f"{node.url}/licence/records")
        assert 'method="post"' in html and 'action="/licence/records"' in html
        for record in records:
            token = TOKEN_RE.search(html).group(1)
            status, _, body = browser.request(
                f"{node.url}/licence/records", {"q": record.licence_no, "csrf_token": token}
            )
            assert status == 200 and record.name in body
            # An old bookmark or a typed URL with the number in it: answered, never logged.
            status, _, body = browser.get(f"{node.url}/licence/records?q={record.licence_no}")
            assert status == 200 and record.name in body
    finally:
        node.stop()
    written = log.read_text()
    assert written.count("/licence/records") == 7
    assert not re.search(r"\d{17}[\dXx]", written)
