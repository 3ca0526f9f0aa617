"""The command-line tools: schema, demo city, staff accounts."""

import re

import pyotp

from core.demo import demo_logins
from models import AuditEvent, Office, Peer, PlateNumber, User


def test_db_upgrade_is_idempotent_and_status_clean(runner):
    assert "up to date" in runner.invoke(args=["db", "upgrade"]).output
    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 0 and "[x] 0001_initial" in result.output


def test_demo_city_loads_once_with_every_role(runner, conn):
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    with conn():
        assert Office.select().count() == 4
        assert Office.select().where(Office.is_local == False).count() == 1  # noqa: E712
        roles = set().union(*(u.roles for u in User.select().where(User.is_staff == True)))  # noqa: E712
        assert roles >= {
            "admin",
            "licence_clerk",
            "vehicle_clerk",
            "truckpass_clerk",
            "accident_officer",
            "police_inspector",
            "market_clerk",
        }
        citizens = list(User.select().where(User.is_staff == False))  # noqa: E712
        assert len(citizens) == 12
        assert len({c.resident_id for c in citizens}) == 12
    again = runner.invoke(args=["demo", "load", "--if-empty"])
    assert "not empty" in again.output


def test_demo_ids_are_valid_resident_ids(runner, conn):
    from rules.validators import normalize_resident_id

    runner.invoke(args=["demo", "load"])
    with conn():
        for user in User.select().where(User.resident_id.is_null(False)):
            assert normalize_resident_id(user.resident_id) == user.resident_id


def test_demo_logins_and_code(runner, app, conn):
    runner.invoke(args=["demo", "load"])
    output = runner.invoke(args=["demo", "logins"]).output
    assert "admin" in output and "TOTP secret" in output
    code = runner.invoke(args=["demo", "code", "admin"]).output.strip()
    assert re.fullmatch(r"\d{6}", code)
    with conn():
        secret = User.get(User.username == "admin").totp_secret
        assert pyotp.TOTP(secret).verify(code, valid_window=1)
        assert demo_logins()["staff"][0]["username"] == "admin"
    assert runner.invoke(args=["demo", "code", "nobody"]).exit_code != 0


def test_demo_banner_shows_while_loaded(runner, client):
    assert "演示数据" not in client.get("/").get_data(as_text=True)
    runner.invoke(args=["demo", "load"])
    assert "演示数据" in client.get("/").get_data(as_text=True)


def test_staff_create_command(runner, make, conn):
    office = make.office()
    result = runner.invoke(
        args=[
            "staff",
            "create",
            "--username",
            "clerk.li",
            "--name",
            "李明",
            "--office",
            office.code,
            "--role",
            "licence_clerk",
            "--password",
            "Quiet-Lantern-58",
        ],
    )
    assert result.exit_code == 0, result.output
    with conn():
        user = User.get(User.username == "clerk.li")
        assert user.roles == {"licence_clerk"} and user.needs_totp_enrolment
        assert AuditEvent.get(AuditEvent.action == "staff.create").detail_dict["via"] == "cli"


def test_staff_create_refuses_weak_password(runner, make):
    office = make.office()
    result = runner.invoke(
        args=[
            "staff",
            "create",
            "--username",
            "clerk.wu",
            "--name",
            "吴",
            "--office",
            office.code,
            "--role",
            "admin",
            "--password",
            "12345678",
        ],
    )
    assert result.exit_code != 0


def test_a_new_city_adds_its_offices_and_plate_pool_from_the_command_line(
    runner, make, conn, tmp_path
):
    """A real deployment loads no demo city: its offices, their plate pool and the first
    administrator come from the command line, in that order."""

    def office(*extra):
        return runner.invoke(
            args=[
                "office",
                "create",
                "--name",
                "烟台市车辆管理所",
                "--name-en",
                "Yantai Vehicle Office",
                "--city",
                "烟台",
                "--city-en",
                "Yantai",
                *extra,
            ]
        )

    made = office("--code", "370600", "--kind", "vehicle_office", "--plate-prefix", " 鲁f ")
    assert made.exit_code == 0, made.output
    again = office("--code", "370600", "--kind", "vehicle_office", "--plate-prefix", "鲁F")
    assert again.exit_code != 0 and "exists already" in again.output
    bad = office("--code", "370601", "--kind", "market", "--plate-prefix", "鲁I")
    assert bad.exit_code != 0 and "plate prefix" in bad.output
    # One deployment, one city: an office of another city (a slip of the prefix) is refused,
    # and so is a code or prefix a peer publishes.
    other = office("--code", "370602", "--kind", "market", "--plate-prefix", "鲁B")
    assert other.exit_code != 0 and "one deployment serves one city" in other.output
    with conn():
        Peer.create(
            base_url="https://jg.weifang.example",
            name="jiaoguan weifang",
            city="潍坊",
            fingerprint="x",
            document='{"offices": [{"code": "370700", "plate_prefix": "鲁V"}], "keys": []}',
        )
    theirs = office("--code", "370700", "--kind", "market", "--plate-prefix", "鲁F")
    assert theirs.exit_code != 0 and "jg.weifang.example publishes" in theirs.output
    listed = runner.invoke(args=["office", "list"])
    assert "370600" in listed.output and "鲁F" in listed.output

    with conn():
        yantai = Office.get(Office.code == "370600")
    make.vehicle(yantai, plate="鲁F54321")
    plates = tmp_path / "plates.txt"
    plates.write_text(
        "鲁F·12345\n鲁f23456\n\n鲁B12345\nnot a plate\n鲁F12345\n鲁F54321\n", encoding="utf-8"
    )
    added = runner.invoke(args=["office", "add-plates", "370600", str(plates)])
    # The good plates are added once each; the other city's, the malformed, and one a vehicle
    # carries already (a registration would be given it and fail) are reported.
    assert added.exit_code == 1, added.output
    assert "added 2 plates" in added.output and "rejected 3" in added.output
    assert "鲁B12345: not of 鲁F" in added.output and "line 5" in added.output
    assert "鲁F54321: carried by a registered vehicle" in added.output
    added = runner.invoke(args=["office", "add-plates", "370600", str(plates)])
    assert "added 0 plates, already in the pool 2" in added.output
    with conn():
        office_row = Office.get(Office.code == "370600")
        assert (office_row.plate_prefix, office_row.is_local) == ("鲁F", True)
        pool = sorted(p.plate for p in PlateNumber.select().where(PlateNumber.office == office_row))
        assert pool == ["鲁F12345", "鲁F23456"]
        actions = {e.action for e in AuditEvent.select()}
    assert {"office.create", "office.plates_added"} <= actions

    admin = runner.invoke(
        args=[
            "staff",
            "create",
            "--username",
            "admin.yt",
            "--name",
            "管理员",
            "--office",
            "370600",
            "--role",
            "admin",
            "--password",
            "Quiet-Lantern-58",
        ]
    )
    assert admin.exit_code == 0, admin.output
