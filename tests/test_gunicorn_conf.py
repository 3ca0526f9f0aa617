"""gunicorn.conf.py, which every gunicorn started in the application's folder reads."""

import gc
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest


@pytest.fixture
def conf():
    """gunicorn.conf.py loaded as gunicorn loads it (a file, not a module of the package)."""
    path = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
    spec = importlib.util.spec_from_file_location("gunicorn_conf", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_warns_at_start(conf, monkeypatch):
    """PUBLIC_BASE_URL naming this machine at another port than the one served: a warning."""
    said = []
    log = SimpleNamespace(warning=said.append)
    server = SimpleNamespace(cfg=SimpleNamespace(bind=["127.0.0.1:8123"]), log=log)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    conf.when_ready(server)
    assert said and "127.0.0.1:8123" in said[0]
    said.clear()
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8123/")
    conf.when_ready(server)
    assert not said


def test_workers_freeze_the_loaded_application(conf):
    """After the application is loaded, its objects leave the collector's generations: a full
    collection then walks only what requests left behind."""
    gc.unfreeze()
    try:
        conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
