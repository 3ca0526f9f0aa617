"""PUBLIC_BASE_URL against the addresses gunicorn binds: a warning only when codes would point
at this machine where nothing answers."""

import pytest

from core.public_url import bind_mismatch


@pytest.mark.parametrize(
    ("public", "binds"),
    [
        ("http://127.0.0.1:5000", ["127.0.0.1:5000"]),
        ("http://localhost:8080", ["127.0.0.1:8080"]),
        ("http://192.168.1.20:8080", ["0.0.0.0:8080"]),
        ("https://jg.example.gov.cn", ["127.0.0.1:8000"]),  # behind a proxy: another host
    ],
)
def test_no_warning_when_the_url_reaches_the_server(public, binds):
    assert bind_mismatch(public, binds) is None


@pytest.mark.parametrize(
    ("public", "binds"),
    [
        ("http://127.0.0.1:5000", ["127.0.0.1:8080"]),  # make run PORT=8080, default URL
        ("http://localhost", ["127.0.0.1:5000"]),
        ("http://192.168.1.20:5000", ["192.168.1.20:8080"]),
    ],
)
def test_warning_when_the_url_names_this_machine_elsewhere(public, binds):
    warning = bind_mismatch(public, binds)
    assert warning and public in warning and binds[0] in warning
