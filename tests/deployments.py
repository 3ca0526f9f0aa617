"""Whole deployments for the network tests: each city with its own database, instance folder,
keys and gunicorn server on loopback, and its `flask` commands run as an administrator would."""

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import contextmanager

from app import create_app
from core.db import make_database, upgrade
from core.network.keys import SigningKey, _as_key
from models import Office, db

from .helpers import release_database
from .nodes import ROOT, Node, free_port

CITIES = {
    "qingdao": ("370200", "青岛市车管所", "Qingdao Vehicle Office", "青岛", "Qingdao", "鲁B"),
    "jinan": ("370100", "济南市车管所", "Jinan Vehicle Office", "济南", "Jinan", "鲁A"),
    "yantai": ("370600", "烟台市车管所", "Yantai Vehicle Office", "烟台", "Yantai", "鲁F"),
}


class Deployment:
    """One city's jiaoguan: migrated database with its vehicle office, served by gunicorn."""

    def __init__(self, root, city: str, database_url: str | None = None, **settings: str):
        self.city = city
        self.instance = str(root / city)
        os.makedirs(self.instance, exist_ok=True)
        self.database_url = database_url or f"sqlite:///{self.instance}/jiaoguan.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = {
            "INSTANCE_PATH": self.instance,
            "DEPLOYMENT_NAME": f"jiaoguan {city}",
            "NETWORK_TIMEOUT_SECONDS": "30",  # a busy peer of one worker, on a loaded machine
            **settings,
        }
        upgrade_and_add_office(self.database_url, city)
        self.node = None
        self.worker = None
        self._app = None
        self.start()

    def start(self) -> None:
        """Start (or restart, on the same address) the deployment's server."""
        self.node = Node(
            self.database_url, self.instance, workers=1, port=self.port, **self.settings
        )

    def stop(self) -> None:
        """Stop the server and its worker (the database and keys stay)."""
        self.stop_worker()
        self.node.stop()

    def kill(self) -> None:
        """kill -9 the server and the worker at once: no chance to clean up."""
        if self.worker is not None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait()
            self.worker = None
        self.node.kill()

    def start_worker(self, interval: float = 0.2) -> None:
        """Start the deployment's outbox worker (`flask network worker`), as `make run` does."""
        log = open(os.path.join(self.instance, "worker.log"), "ab")  # noqa: SIM115
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "network", "worker", "--interval", str(interval)],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop_worker(self) -> None:
        """Stop the worker, if one runs."""
        if self.worker is not None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            self.worker.wait(timeout=30)
            self.worker = None

    def app(self):
        """This deployment's application in the test process: a test acts as its users do
        (the same service steps the views call), on its database and with its keys."""
        if self._app is None:
            self._app = create_app(
                {
                    "TESTING": True,
                    "SECRET_KEY": "shared-by-all-nodes",
                    "DATABASE_URL": self.database_url,
                    "PUBLIC_BASE_URL": self.url,
                    "NETWORK_KEY_FOLDER": os.path.join(self.instance, "network"),
                    "UPLOAD_FOLDER": os.path.join(self.instance, "uploads"),
                    "DEPLOYMENT_NAME": self.settings["DEPLOYMENT_NAME"],
                    "NETWORK_TIMEOUT_SECONDS": 30,
                }
            )
        return self._app

    @contextmanager
    def act(self):
        """Within: this deployment's app context and database (for its steps and assertions)."""
        app = self.app()
        db.initialize(make_database(self.database_url))
        try:
            with app.app_context(), db.connection_context():
                yield app
        finally:
            release_database()

    def env(self) -> dict:
        """The environment of this deployment's commands (the same settings as its server)."""
        return {
            **os.environ,
            "FLASK_APP": "app:create_app",
            "DATABASE_URL": self.database_url,
            "PUBLIC_BASE_URL": self.url,
            "SECRET_KEY": "shared-by-all-nodes",
            **self.settings,
        }

    def flask(self, *args, input: str | None = None, check: bool = True):
        """Run `flask ...` for this deployment; returns the finished process."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env=self.env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"flask {' '.join(args)}: {done.stdout}\n{done.stderr}")
        return done

    def fingerprint(self) -> str:
        """What this city's administrator reads out on the telephone."""
        out = self.flask("network", "show-key").stdout
        return out.split("fingerprint:", 1)[1].strip()

    def keys(self) -> list[SigningKey]:
        """The deployment's private keys (a test forging or crafting messages reads them)."""
        with open(os.path.join(self.instance, "network", "keys.json")) as fh:
            return [_as_key(e) for e in json.load(fh)["keys"]]

    @contextmanager
    def database(self):
        """The models bound to this deployment's database, for assertions."""
        db.initialize(make_database(self.database_url))
        try:
            with db.connection_context():
                yield
        finally:
            release_database()


def upgrade_and_add_office(database_url: str, city: str) -> None:
    """Migrate a new deployment's database and give it its city's vehicle office."""
    db.initialize(make_database(database_url))
    try:
        upgrade()
        code, name, name_en, city_zh, city_en, prefix = CITIES[city]
        with db.connection_context():
            Office.create(
                code=code,
                name=name,
                name_en=name_en,
                kind="vehicle_office",
                city=city_zh,
                city_en=city_en,
                plate_prefix=prefix,
            )
    finally:
        release_database()


def post_envelope(deployment: Deployment, token: str) -> tuple[int, str]:
    """POST a compact JWS to a deployment's inbox as another deployment would."""
    request = urllib.request.Request(  # noqa: S310
        deployment.url + "/network/inbox",
        data=token.encode(),
        method="POST",
        headers={"Content-Type": "application/jose"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def get_json(url: str):
    """GET a JSON document: (status, headers, parsed body)."""
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
        return response.status, dict(response.headers), json.loads(response.read())


def peer(a: Deployment, b: Deployment) -> None:
    """a trusts b: the fingerprint read out by b's administrator is typed at a. The steps of
    `flask network show-key` at b and `flask network add-peer` at a, run in this process (two
    subprocesses each time cost the suite most of a minute); tests/test_network_peers.py runs
    the commands themselves."""
    from core.network.keys import fingerprint, signing_key
    from core.network.peers import add_peer, fetch_candidate

    with b.act():
        read_out = fingerprint(signing_key().kid)
    with a.act():
        add_peer(fetch_candidate(b.url), read_out, added_by="cli")
