"""The bench city: where a city of each scale is kept (bench/out/, a folder per scale and one
per PostgreSQL city), building it when it is missing or out of date, and the runner's own
connection to its database.

The paths of the run's city are this module's attributes, set by use_city; the other modules of
the bench read them as `city.DB_URL` and so on when they need them.
"""

import json
import os
import sys

from bench import dataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
# The full-size bench city (bench/dataset.py) lives in bench/out/; smaller ones (--scale) beside it.
CITY = OUT
DB_PATH = os.path.join(CITY, "bench.db")
META_PATH = os.path.join(CITY, "dataset.json")
SESSIONS_PATH = os.path.join(CITY, "sessions.json")
STEP_FILE = os.path.join(CITY, "last-code-step")
DB_URL = f"sqlite:///{DB_PATH}"  # the runner's own connection (never through the delay)
VENV_BIN = os.path.dirname(sys.executable)


def log(msg: str) -> None:
    """Progress on stderr, so stdout keeps the table."""
    print(msg, file=sys.stderr, flush=True)


def use_city(scale: float, pg_url: str = "") -> None:
    """Keep a city of another scale in a folder of its own (so it never replaces the big one);
    a PostgreSQL city keeps its description and sessions in a folder of its own too."""
    global CITY, DB_PATH, META_PATH, SESSIONS_PATH, STEP_FILE, DB_URL
    if pg_url:
        CITY = os.path.join(OUT, f"pg-city-x{scale:g}")
    else:
        CITY = OUT if scale == 1 else os.path.join(OUT, f"city-x{scale:g}")
    DB_PATH = os.path.join(CITY, "bench.db")
    DB_URL = pg_url or f"sqlite:///{DB_PATH}"
    META_PATH = os.path.join(CITY, "dataset.json")
    SESSIONS_PATH = os.path.join(CITY, "sessions.json")
    STEP_FILE = os.path.join(CITY, "last-code-step")


def ensure_dataset(rebuild: bool, scale: float = 1.0, pg_url: str = "") -> dict:
    """The bench city's description, building the database first when needed."""
    use_city(scale, pg_url)
    os.makedirs(CITY, exist_ok=True)
    there = os.path.exists(DB_PATH) if not pg_url else bool(built_here())
    if not rebuild and there and os.path.exists(META_PATH):
        with open(META_PATH) as fh:
            meta = json.load(fh)
        same = meta.get("version") == dataset.DATASET_VERSION and meta.get("scale", 1.0) == scale
        if pg_url and built_here() != meta.get("build_id"):
            same = False  # the database holds a city of another scale now
        if same and meta.get("database", DB_URL) == DB_URL:
            if dataset.bring_up_to_date(DB_URL, meta, log, work_dir=CITY):
                with open(META_PATH, "w") as fh:
                    json.dump(meta, fh)
            return meta
    log("building the bench city (once; cached in bench/out/) ...")
    sizes = {
        k: max(dataset.MINIMUM_SIZES.get(k, 10), int(v * scale)) for k, v in dataset.SIZES.items()
    }
    meta = dataset.build(DB_URL, sizes, progress=log, work_dir=CITY)
    meta["scale"] = scale
    meta["database"] = DB_URL
    if pg_url:  # one PostgreSQL database serves every scale: it says which city it holds
        from models import Setting

        with open_db().connection_context():
            Setting.set_value(BUILD_SETTING, meta["build_id"])
    meta["secret_key"] = os.urandom(24).hex()
    with open(META_PATH, "w") as fh:
        json.dump(meta, fh)
    return meta


BUILD_SETTING = "bench.build_id"


def built_here() -> str | None:
    """The build id of the city in the PostgreSQL database (None when it holds none)."""
    import peewee

    from models import Setting

    try:
        with open_db().connection_context():
            return Setting.get_value(BUILD_SETTING)
    except peewee.DatabaseError:
        return None


def open_db():
    """Bind the models to the bench database for the runner's own reads and housekeeping."""
    from core.db import make_database
    from models import db

    if db.obj is None:
        db.initialize(make_database(DB_URL))
    return db
