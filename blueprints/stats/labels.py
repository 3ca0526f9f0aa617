"""Words for the measures and metrics of the statistics, in the reader's language."""

from flask_babel import lazy_gettext as _l

from blueprints.licence.labels import VERDICT_LABELS

MEASURE_LABELS = {
    "elicence": _l("Electronic driving licences"),
    "licence_check": _l("Licence checks"),
    "share_code": _l("Share codes"),
    "transfer": _l("Cross-region vehicle transfers"),
    "truck_pass": _l("Truck pass codes"),
    "evidence": _l("Accident evidence reviewed online"),
}

METRIC_LABELS = {
    ("elicence", "issued"): _l("Issued"),
    ("elicence", "refused"): _l("Refused"),
    **{("licence_check", v): label for v, label in VERDICT_LABELS.items()},
    ("licence_check", "other"): _l("Other verdicts"),
    ("share_code", "used"): _l("Used"),
    ("share_code", "refused"): _l("Refused"),
    ("transfer", "opened"): _l("Opened"),
    ("transfer", "registered"): _l("Registered"),
    ("transfer", "stopped"): _l("Stopped"),
    # A declined sale is withdrawn (撤销): "Cancelled" is the licence's 注销 (transfer labels.py).
    ("transfer", "cancelled"): _l("Called off"),
    ("truck_pass", "applied"): _l("Applications"),
    ("truck_pass", "issued"): _l("Issued"),
    ("truck_pass", "refused"): _l("Refused"),
    ("truck_pass", "revoked"): _l("Passes revoked"),
    ("evidence", "viewed"): _l("Viewed"),
    ("evidence", "downloaded"): _l("Copies downloaded"),
}

# The lines of the day chart and the stacks of the hour chart (rules.stats.HEADLINES).
HEADLINE_LABELS = {
    ("elicence", "issued"): _l("E-licences issued"),
    ("licence_check", "*"): _l("Licence checks"),
    ("share_code", "used"): _l("Share codes used"),
    ("transfer", "opened"): _l("Transfers opened"),
    ("transfer", "registered"): _l("Transfers registered"),
    ("truck_pass", "issued"): _l("Truck passes issued"),
    ("evidence", "*"): _l("Evidence reviews"),
}

APPLICATION_LABELS = {
    "elicence": _l("E-licence applications"),
    "transfer": _l("Transfers opened"),
    "truck_pass": _l("Truck-pass applications"),
}

BY_LABELS = {
    "day": _l("By day"),
    "hour": _l("By hour of day"),
    "office": _l("By office"),
}
BY_KEY_LABELS = {
    "day": _l("Day"),
    "hour": _l("Hour"),
    "office": _l("Office"),
}

TOTAL = _l("Total")
ALL_CHECKS = _l("All checks")
MEDIAN_TIME = _l("Median time (hours)")
SLOWEST_TIME = _l("Slowest (hours)")
NO_OFFICE = _l("No office")

# The public report's table: (measure, metric or None for all its metrics, label).
PUBLIC_ROWS = (
    ("elicence", "issued", _l("E-licences issued")),
    ("licence_check", None, _l("Licence checks")),
    ("share_code", "used", _l("Share codes used")),
    ("transfer", "opened", _l("Transfers opened")),
    ("transfer", "registered", _l("Transfers registered")),
    ("truck_pass", "applied", _l("Truck-pass applications")),
    ("truck_pass", "issued", _l("Truck passes issued")),
    ("evidence", "viewed", _l("Evidence viewed online")),
    ("evidence", "downloaded", _l("Evidence copies downloaded")),
)
