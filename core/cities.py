"""Cities and offices by name in the reader's language.

Records and messages name a city in Chinese (济南), as offices and peers keep it, and an office
by its code (370100): the city of a relayed check in the holder's log, the office of the
inspector who made it, a peer, a witness. A page writes the names that this deployment's
offices, or a peer's published offices, give them, in the page's language.
"""

from flask import g, has_request_context

from core import templatehelpers
from core.i18n import is_chinese
from models import Office, Peer


def _known() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(Chinese city name -> English name, office code -> (name, English name)) of every city
    and office this deployment knows: its own offices first, then its peers' (one read of
    each per request)."""
    if has_request_context() and "known_names" in g:
        return g.known_names
    cities: dict[str, str] = {}
    offices: dict[str, tuple[str, str]] = {}
    for office in Office.select(
        Office.code, Office.name, Office.name_en, Office.city, Office.city_en
    ):
        offices[office.code] = (office.name, office.name_en)
        if office.city_en:
            cities[office.city] = office.city_en
    for peer in Peer.select(Peer.document):
        listed = peer.doc.get("offices")
        for office in listed if isinstance(listed, list) else []:
            if not isinstance(office, dict):
                continue  # a peer's document is its own: a malformed entry names nothing
            name, code = str(office.get("name") or ""), str(office.get("code") or "")
            if code and name:
                offices.setdefault(code, (name, str(office.get("name_en") or name)))
            if office.get("city") and office.get("city_en"):
                cities.setdefault(str(office["city"]), str(office["city_en"]))
    if has_request_context():
        g.known_names = (cities, offices)
    return cities, offices


def city_name(city: str | None) -> str:
    """A city named in Chinese, written in the language of the page (the name as given when
    no English one is known)."""
    if not city or is_chinese():
        return city or ""
    return _known()[0].get(city, city)


def office_name(code: str | None) -> str:
    """An office of this city or a peer's, by its code, named in the language of the page
    ('' when no office known here has it: the page then says the code)."""
    names = _known()[1].get(code or "")
    if names is None:
        return ""
    return names[0] if is_chinese() else (names[1] or names[0])


def init_app(app) -> None:
    """`city_name(...)` and `office_name(...)` in every template."""
    templatehelpers.add(app, city_name=city_name, office_name=office_name)
