"""The administrator sees the witnessing: the audit page shows the latest checkpoint with its
cosignatures (witness city, time), and an inconsistency alert shows on the audit page and on
the peers page."""

import datetime as dt

from models import (
    ALERT_LOG,
    ALERT_WITNESS,
    AuditCheckpoint,
    AuditCosignature,
    AuditEvent,
    WitnessAlert,
)

from .helpers import page


def checkpoint(size: int) -> AuditCheckpoint:
    """A checkpoint row as the integrator stores it (the page does not check its signature)."""
    return AuditCheckpoint.create(
        tree_size=size, root_hash=f"{size:064x}", at=dt.datetime(2026, 5, 1, 2), note="n"
    )


def test_the_audit_page_shows_the_latest_checkpoint_and_who_cosigned_it(client, make, login, conn):
    with conn():
        cosigned = checkpoint(10)
        checkpoint(12)  # newer, not yet cosigned
        AuditCosignature.create(
            checkpoint=cosigned,
            witness_url="https://jg.jinan.example",
            witness_city="济南",
            name="jg.jinan.example/witness",
            signature="— jg.jinan.example/witness AAAA",
            cosigned_at=dt.datetime(2026, 5, 1, 2, 0, 5),
        )
    login(make.staff("admin"))
    soup = page(client.get("/staff/audit"))
    shown = soup.find(id="checkpoint").get_text(" ", strip=True)
    assert "12" in shown and "10" in shown
    row = soup.select_one("#cosignatures tbody tr").get_text(" ", strip=True)
    # 02:00:05 UTC is 10:00:05 in Beijing.
    assert "济南" in row and "https://jg.jinan.example" in row and "10:00:05" in row
    assert soup.find(id="witness-alerts") is None


def test_an_alert_shows_on_the_audit_page_and_the_peers_page(client, make, login, conn):
    with conn():
        WitnessAlert.create(
            side=ALERT_LOG,
            peer_url="https://jg.jinan.example",
            reason="inconsistent_checkpoint",
            tree_size=12,
            detail="refused 10 -> 12",
        )
        WitnessAlert.create(
            side=ALERT_WITNESS,
            peer_url="https://jg.jinan.example",
            reason="inconsistent_checkpoint",
            tree_size=7,
        )
    login(make.staff("admin"))
    for url in ("/staff/audit", "/network/peers"):
        soup = page(client.get(url))
        alerts = {
            a["data-side"]: a.get_text(" ", strip=True) for a in soup.select(".witness-alert")
        }
        assert set(alerts) == {ALERT_LOG, ALERT_WITNESS}
        assert "12" in alerts[ALERT_LOG] and "refused 10 -> 12" in alerts[ALERT_LOG]
        assert "7" in alerts[ALERT_WITNESS]
        assert all("https://jg.jinan.example" in text for text in alerts.values())


def test_what_comparing_notes_found_says_what_it_means(client, make, login, conn):
    """A split view names the log that showed two histories; a forged checkpoint tells the
    administrator that someone signs with our key, and what to do (both languages)."""
    with conn():
        WitnessAlert.create(
            side=ALERT_WITNESS,
            peer_url="https://jg.yantai.example",
            reason="split_view",
            tree_size=9,
        )
        WitnessAlert.create(
            side=ALERT_LOG,
            peer_url="https://jg.jinan.example",
            reason="forged_checkpoint",
            tree_size=5,
        )
    login(make.staff("admin"))
    alerts = {
        a["data-reason"]: a.get_text(" ", strip=True)
        for a in page(client.get("/staff/audit")).select(".witness-alert")
    }
    assert "两套不同的审计日志历史" in alerts["split_view"]
    assert "有人在用本部署的密钥签名" in alerts["forged_checkpoint"]
    client.post("/lang", data={"lang": "en"})
    alerts = {
        a["data-reason"]: a.get_text(" ", strip=True)
        for a in page(client.get("/staff/audit")).select(".witness-alert")
    }
    assert "https://jg.yantai.example has shown witnesses two histories" in alerts["split_view"]
    assert "never made: someone signs with our key" in alerts["forged_checkpoint"]
    assert "(5 entries)" in alerts["forged_checkpoint"]


def test_an_acknowledged_alert_leaves_the_pages_and_is_audited(client, make, login, conn):
    with conn():
        alert = WitnessAlert.create(
            side=ALERT_WITNESS,
            peer_url="https://jg.jinan.example",
            reason="inconsistent_checkpoint",
            tree_size=7,
        )
    login(make.staff("admin"))
    soup = page(client.get("/staff/audit"))
    form = soup.find(id=f"ack-alert-{alert.id}")
    assert form.find("input", attrs={"name": "back"})["value"] == "audit"
    response = client.post(form["action"], data={"back": "audit"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/audit")
    with conn():
        assert WitnessAlert.get_by_id(alert.id).acknowledged_at is not None
        row = AuditEvent.get(AuditEvent.action == "audit.alert_acknowledged")
        assert (row.object_type, row.object_id) == ("WitnessAlert", str(alert.id))
    for url in ("/staff/audit", "/network/peers"):
        assert page(client.get(url)).find(id="witness-alerts") is None


def test_only_administrators_acknowledge_alerts(client, make, login, conn):
    with conn():
        alert = WitnessAlert.create(
            side=ALERT_LOG, peer_url="https://jg.jinan.example", reason="inconsistent_checkpoint"
        )
    login(make.staff("vehicle_clerk"))
    url = f"/network/witness-alerts/{alert.id}/acknowledge"
    assert client.post(url, data={"back": "peers"}).status_code == 403
    # Nor download what an alert rests on.
    assert client.get(f"/network/witness-alerts/{alert.id}/evidence.json").status_code == 403
    with conn():
        assert WitnessAlert.get_by_id(alert.id).acknowledged_at is None


def test_the_administrator_downloads_the_evidence_an_alert_rests_on(client, make, login, conn):
    with conn():
        shown = WitnessAlert.create(
            side=ALERT_WITNESS,
            peer_url="https://jg.jinan.example",
            reason="split_view",
            tree_size=7,
            evidence='{"format": "jiaoguan-fork-evidence/v1"}\n',
        )
        bare = WitnessAlert.create(
            side=ALERT_LOG, peer_url="https://jg.jinan.example", reason="witness_size_mismatch"
        )
    link = f"/network/witness-alerts/{shown.id}/evidence.json"
    login(make.staff("admin"))
    for url in ("/staff/audit", "/network/peers"):
        soup = page(client.get(url))
        links = [a["href"] for a in soup.select(".witness-alert a[download]")]
        assert links == [link, "/audit/verify_receipt.py"]
    got = client.get(link)
    assert got.status_code == 200 and got.get_data(as_text=True) == shown.evidence
    assert got.headers["Content-Disposition"] == (
        f'attachment; filename="jiaoguan-evidence-{shown.id}.json"'
    )
    assert client.get(f"/network/witness-alerts/{bare.id}/evidence.json").status_code == 404
