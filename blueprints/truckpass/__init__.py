"""Measure 3: truck electronic pass codes (货车电子通行码) and the city's truck rules.

Public: the rules in plain words and the "may this truck enter?" question. Citizens (owners or
drivers): the step-by-step application and their passes with QR codes. Truck-pass clerks: the
rule book editor, the review queue, revoking. The verifier answers for passes in `verify`.

Modules: views (citizens), public (the rules, the question), clerk (the clerks' pages), service
(the application's steps, deciding, revoking, the verifier's answer), rulebook (zones and
rules), notices, labels, forms, demo, measure (the declaration).
"""

from flask import Blueprint

bp = Blueprint("truckpass", __name__, url_prefix="/trucks")

from . import clerk, public, views  # noqa: E402,F401  (they register themselves on bp)
from .measure import MEASURE  # noqa: E402,F401  (what the app registers: core.measures)
