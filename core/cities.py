"""Cities by name in the reader's language.

Records and messages name a city in Chinese (济南), as offices and peers keep it: the city of
a relayed check in the holder's log, a peer, a witness. An English page writes the English name
that this deployment's offices, or a peer's published offices, give that city.
"""

from flask import g, has_request_context

from core import templatehelpers
from core.i18n import is_chinese
from models import Office, Peer


def english_names() -> dict[str, str]:
    """Every city name this deployment knows, in Chinese, with its English name (one read of
    the offices and the peers per request)."""
    if has_request_context() and "english_city_names" in g:
        return g.english_city_names
    names = {}
    for peer in Peer.select(Peer.document):
        for office in peer.doc.get("offices", []):
            if office.get("city") and office.get("city_en"):
                names.setdefault(str(office["city"]), str(office["city_en"]))
    for city, city_en in Office.select(Office.city, Office.city_en).distinct().tuples():
        if city_en:
            names[city] = city_en  # our own offices' names come first
    if has_request_context():
        g.english_city_names = names
    return names


def city_name(city: str | None) -> str:
    """A city named in Chinese, written in the language of the page (the name as given when
    no English one is known)."""
    if not city or is_chinese():
        return city or ""
    return english_names().get(city, city)


def init_app(app) -> None:
    """`city_name(...)` in every template."""
    templatehelpers.add(app, city_name=city_name)
