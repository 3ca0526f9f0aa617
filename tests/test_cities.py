"""Cities and offices by name in the reader's language (core.cities): our offices' names, then
those a peer publishes; a name or code nobody translates is shown as given."""

import json

from core.cities import city_name, office_name
from models import Peer


def test_a_city_is_named_in_the_language_of_the_page(app, make, conn):
    make.office()  # 青岛, Qingdao
    with conn():
        offices = [{"code": "370100", "city": "济南", "city_en": "Jinan"}]
        Peer.create(
            base_url="https://jg.jinan.example",
            city="济南",
            fingerprint="f" * 64,
            document=json.dumps({"offices": offices}),
        )
    for language, expected in (("en", ["Qingdao", "Jinan", "潍坊", ""]), ("zh", None)):
        with app.test_request_context(f"/?hl={language}"), conn():
            names = [city_name(c) for c in ("青岛", "济南", "潍坊", None)]
        assert names == (expected or ["青岛", "济南", "潍坊", ""])


def test_an_office_is_named_by_its_code(app, make, conn):
    office = make.office()
    with conn():
        offices = [{"code": "370100", "name": "济南市车管所", "name_en": "Jinan Vehicle Office"}]
        Peer.create(
            base_url="https://jg.jinan.example",
            fingerprint="f" * 64,
            document=json.dumps({"offices": offices}),
        )
    codes = (office.code, "370100", "999999", "")
    with app.test_request_context("/?hl=en"), conn():
        assert [office_name(c) for c in codes] == [
            office.name_en,
            "Jinan Vehicle Office",
            "",
            "",
        ]
    with app.test_request_context("/?hl=zh"), conn():
        assert [office_name(c) for c in codes][:2] == [office.name, "济南市车管所"]
