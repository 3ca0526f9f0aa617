"""What a measure (便民措施, one of the city's online services) declares about itself.

Each measure's package (`blueprints/licence`, `transfer`, `truckpass`, `evidence`) exports one
`Measure`; `app.py` alone lists them and hands the list to `init_app`, which keeps it on the app.
The shared code reads the list from there and never imports a measure: the navigation, the
staff landing page and the home page loop over the links and cards below, the audit search asks
`audit_label()`, and the demo city runs each `demo` loader. docs/ARCHITECTURE.md walks through
adding a measure.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from flask import Flask, current_app, has_app_context
from flask_login import current_user

from core import templatehelpers

EXTENSION = "measures"


@dataclass(frozen=True)
class Link:
    """A link in the site's navigation, for citizens (no roles) or for staff of some roles."""

    endpoint: str
    label: object  # a lazy string: rendered in the reader's language
    roles: frozenset[str] = frozenset()

    def shown_to(self, user) -> bool:
        """True when `user` (logged in) sees the link: citizens see citizens' links, staff see
        the links of their roles."""
        if not user.is_staff:
            return not self.roles
        return any(user.has_role(role) for role in self.roles)


@dataclass(frozen=True)
class Card:
    """A card of the staff landing page, or of the home page (no roles then): a title linking
    to the measure, what it is for, and any further links under it."""

    endpoint: str
    title: object
    text: object
    roles: frozenset[str] = frozenset()
    more: tuple[tuple[str, object], ...] = ()  # (endpoint, label) links under the text


@dataclass(frozen=True)
class Measure:
    """One measure's declaration: everything the shared pages and tools need to know of it."""

    name: str
    blueprint: object  # flask.Blueprint, registered by app.py
    links: tuple[Link, ...] = ()
    staff_cards: tuple[Card, ...] = ()
    home_card: Card | None = None
    audit_labels: Mapping[str, object] = field(default_factory=dict)
    # Words for the results its audit rows store beyond the shared ones (a verdict, a refusal's
    # reason), read with that row's action: "revoked" is a licence's or a truck pass's.
    result_labels: Mapping[str, object] = field(default_factory=dict)
    demo: Callable | None = None  # load_demo(core.demo.DemoContext), run in the demo's transaction
    # The statistics' measures it is counted under (keys of rules.stats.MEASURES): the counting
    # tables stay in rules.stats, pure and run inside the audit row's transaction.
    statistics: tuple[str, ...] = ()
    # How people know its objects: per object type an audit row stores (the model's class
    # name), a function of the stored object id giving the number people quote (a case's
    # ZY000007), or None when there is none; the receipts name the object by it, not by its id.
    object_names: Mapping[str, Callable[[str], str | None]] = field(default_factory=dict)
    # The other way round, for the audit page's search: per object type, a function of what
    # an administrator typed giving the ids (as stored) of the objects that number names.
    object_finders: Mapping[str, Callable[[str], list[str]]] = field(default_factory=dict)
    # The reason an audit row of an action keeps in its detail (a refusal's, a revocation's),
    # as the audit page shows it: per action, a function of the row's detail giving the words
    # (typed_reason, coded_reason), or None when the row has none.
    audit_reasons: Mapping[str, Callable[[Mapping], str | None]] = field(default_factory=dict)


def typed_reason(detail: Mapping) -> str | None:
    """An audit row's reason as the person gave it, in their own words."""
    return str(detail.get("reason") or "").strip() or None


def coded_reason(labels: Mapping[str, object]) -> Callable[[Mapping], str | None]:
    """An audit row's reason stored as a code, put into words by `labels`."""

    def words(detail: Mapping) -> str | None:
        code = detail.get("reason")
        return str(labels.get(code, code)) if code else None

    return words


def staff(*roles: str) -> frozenset[str]:
    """The roles a link or card is for (reads better in a declaration than frozenset({...}))."""
    return frozenset(roles)


def init_app(app: Flask, measures: Iterable[Measure]) -> None:
    """Keep the measures on the app, register their blueprints and the templates' helpers."""
    measures = tuple(measures)
    names = [m.name for m in measures]
    if len(set(names)) != len(names):
        raise ValueError(f"two measures share a name: {names}")
    app.extensions[EXTENSION] = measures
    for measure in measures:
        app.register_blueprint(measure.blueprint)
    # What base.html, staff/index.html and main/home.html loop over.
    templatehelpers.add(
        app, measure_links=measure_links, measure_cards=staff_cards, home_cards=home_cards
    )


def registered() -> tuple[Measure, ...]:
    """The measures of the running app (none outside an app context)."""
    return current_app.extensions.get(EXTENSION, ()) if has_app_context() else ()


def measure_links(user=None) -> list[Link]:
    """The measures' navigation links the user sees, in the measures' order (on every page:
    the account is taken from behind Flask-Login's proxy once, not once per link)."""
    user = user or current_user._get_current_object()
    if not user.is_authenticated:
        return []
    return [link for m in registered() for link in m.links if link.shown_to(user)]


def staff_cards(user=None) -> list[Card]:
    """The measures' cards on a staff member's landing page, for the roles they hold."""
    user = user or current_user
    return [
        card
        for m in registered()
        for card in m.staff_cards
        if any(user.has_role(role) for role in card.roles)
    ]


def home_cards(user=None) -> list[Card]:
    """The home page's cards: one per measure for citizens and visitors; a staff member sees the
    cards of their own roles instead, as the citizens' pages would only answer them 403."""
    user = user or current_user
    if user.is_authenticated and user.is_staff:
        return staff_cards(user)
    return [m.home_card for m in registered() if m.home_card is not None]


def audit_labels() -> dict[str, object]:
    """The audit actions' labels of every registered measure."""
    return {action: label for m in registered() for action, label in m.audit_labels.items()}


def result_labels(action: str) -> Mapping[str, object]:
    """The result labels of the measure whose audit action this is (none for a shared one)."""
    return next((m.result_labels for m in registered() if action in m.audit_labels), {})


def audit_reason_reader(action: str) -> Callable[[Mapping], str | None] | None:
    """How the audit page reads the reason of an action's rows (None: its rows keep none)."""
    return next((m.audit_reasons[action] for m in registered() if action in m.audit_reasons), None)


def demo_loaders() -> list[Callable]:
    """Each measure's demo loader, in the measures' order."""
    return [m.demo for m in registered() if m.demo is not None]


def objects_numbered(typed: str) -> list[tuple[str, str]]:
    """(object type, object id) of each object a number people quote names (ZY000007 names a
    transfer case here, or the outgoing record that follows it), from every measure."""
    return [
        (object_type, object_id)
        for m in registered()
        for object_type, find in m.object_finders.items()
        for object_id in find(typed)
    ]


def object_number(object_type: str, object_id: str) -> str | None:
    """The number people know an object by (a case number), from the measure that declares
    one for its type; None when none does or the object has none."""
    for m in registered():
        name = m.object_names.get(object_type)
        if name is not None and object_id:
            return name(object_id)
    return None
