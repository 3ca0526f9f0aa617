"""A witnessed receipt between two real deployments: Jinan cosigns Qingdao's checkpoint, and a
holder's receipt downloaded from Qingdao carries Qingdao's checkpoint with Jinan's
cosignature line appended and Jinan's cosigner key; docs/verify_receipt.py checks both
signatures and names the witness, and refuses a changed cosignature. A newer checkpoint that
no witness has cosigned yet is not the one a receipt proves against. Jinan runs on
PostgreSQL when TEST_DATABASE_URL points at it."""

import base64
import json
from contextlib import contextmanager

import pytest

from core.auditlog.cosign import COSIGNATURE_V1, cosigner_name, key_id
from core.auditlog.note import raw_public
from core.db import make_database
from models import AuditEvent, db

from .deployments import Deployment, peer
from .factories import Factory
from .helpers import CSRFClient, fresh_database_url, on_postgres, page, release_database
from .test_auditlog_receipt import run_script
from .test_auditlog_receipt_pages import CHECKER_ADDR, _check
from .test_auditlog_witness import add_entries, witness


@pytest.fixture
def cities(tmp_path):
    """Qingdao (the log) and Jinan (its witness), peered both ways."""
    qingdao = Deployment(tmp_path, "qingdao")
    jinan = Deployment(tmp_path, "jinan", fresh_database_url(tmp_path) if on_postgres() else None)
    peer(qingdao, jinan)
    peer(jinan, qingdao)
    yield qingdao, jinan
    qingdao.stop()
    jinan.stop()


@contextmanager
def serving(deployment: Deployment):
    """The deployment's app in this process with its database bound, no connection held:
    each request (and each factory step) opens and closes its own, as in production."""
    db.initialize(make_database(deployment.database_url))
    try:
        yield deployment.app()
    finally:
        release_database()


def jinan_witness_key(jinan: Deployment) -> str:
    """Jinan's cosigner key in C2SP form, as its administrator publishes it (`flask audit keys
    --witness`), checked here against the key on file."""
    public = raw_public(jinan.keys()[0].key.private_key)
    name = cosigner_name(jinan.url)
    encoded = base64.b64encode(COSIGNATURE_V1 + public).decode()
    printed = jinan.flask("audit", "keys", "--witness").stdout.split()
    assert printed == [f"{name}+{key_id(name, public).hex()}+{encoded}"]
    return printed[0]


def test_a_holders_receipt_is_witnessed_by_the_other_city(cities, tmp_path):
    qingdao, jinan = cities
    app = qingdao.app()
    app.test_client_class = CSRFClient
    make = Factory(app)
    client = app.test_client()
    with serving(qingdao):
        el = make.elicence()
        _check(client, el)
        make.login(client, el.holder)
    qingdao.flask("audit", "integrate", "--once")
    assert witness(qingdao) == "cosigned"
    # The log grows and signs a newer checkpoint that no witness has cosigned yet.
    newer = add_entries(qingdao, 2)

    with serving(qingdao):
        link = page(client.get("/licence/checks")).select_one("tbody a")["href"]
        soup = page(client.get(link))
        assert "济南" in soup.find(id="receipt-witnesses").get_text()
        # In English, the witness's city is named in English (Jinan's document publishes it).
        english = page(client.get(link, headers={"Accept-Language": "en"}))
        assert "Jinan" in english.find(id="receipt-witnesses").get_text()
        response = client.get(soup.find(id="receipt-download")["href"])
    with qingdao.database():
        numbered = AuditEvent.select().where(AuditEvent.seq.is_null(False))
        fresh = numbered.order_by(AuditEvent.seq.desc()).first()
    receipt = json.loads(response.data)
    assert receipt["tree_size"] < newer  # the witnessed checkpoint, not the newest
    assert [w["name"] for w in receipt["witnesses"]] == [cosigner_name(jinan.url)]
    assert receipt["checkpoint"].count("\n\u2014 ") == 2  # the log's line and Jinan's
    assert CHECKER_ADDR not in response.get_data(as_text=True)
    path = tmp_path / "receipt.json"
    path.write_bytes(response.data)
    key = qingdao.flask("audit", "keys").stdout.split()[0]
    done = run_script(path, "--key", key, "--witness", jinan_witness_key(jinan))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"WITNESSED by {cosigner_name(jinan.url)}" in done.stdout
    # Without the witness's key from elsewhere, a cosignature proves no one vouched: the log
    # could have made the key it brings.
    done = run_script(path, "--key", key)
    assert done.returncode == 0 and "WITNESSED" not in done.stdout
    assert "key taken from the receipt" in done.stdout

    # A changed cosignature, or one taken away while the witness is required: refused.
    text, _, lines = receipt["checkpoint"].rpartition("\n\n")
    log_line, cosignature = lines.rstrip("\n").split("\n")
    blob = bytearray(base64.b64decode(cosignature.rsplit(" ", 1)[1]))
    blob[-1] ^= 1
    forged = cosignature.rsplit(" ", 1)[0] + " " + base64.b64encode(bytes(blob)).decode()
    path.write_text(json.dumps({**receipt, "checkpoint": f"{text}\n\n{log_line}\n{forged}\n"}))
    done = run_script(path)
    assert done.returncode == 1 and "does not verify" in done.stdout
    path.write_text(json.dumps({**receipt, "checkpoint": f"{text}\n\n{log_line}\n"}))
    assert run_script(path).returncode == 1
    assert run_script(path, "--witness", jinan_witness_key(jinan)).returncode == 1

    # The newest entry is only in the unwitnessed checkpoint: its receipt says so.
    prove = json.loads(qingdao.flask("audit", "prove", str(fresh.seq)).stdout)
    assert prove["tree_size"] == newer and prove["witnesses"] == []
    path.write_text(json.dumps(prove))
    done = run_script(path)
    assert done.returncode == 0 and "not witnessed yet" in done.stdout
