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


def test_gunicorn_warns_when_a_public_deployment_sends_no_sms(conf, monkeypatch):
    """Served over https with the development gateway: nobody gets a code, and the codes wait
    for an administrator at /dev/sms. Said at start; not for the demo on loopback."""
    said = []
    server = SimpleNamespace(
        cfg=SimpleNamespace(bind=["127.0.0.1:5000"]), log=SimpleNamespace(warning=said.append)
    )
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://jg.yantai.example")
    monkeypatch.delenv("SMS_GATEWAY", raising=False)
    conf.when_ready(server)
    assert said == [conf.SMS_NOT_SENT]
    said.clear()
    monkeypatch.setenv("SMS_GATEWAY", "http")
    conf.when_ready(server)
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    monkeypatch.setenv("SMS_GATEWAY", "dev")
    conf.when_ready(server)
    assert said == []


def test_workers_freeze_the_loaded_application(conf):
    """After the application is loaded, its objects leave the collector's generations: a full
    collection then walks only what requests left behind."""
    gc.unfreeze()
    try:
        conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
