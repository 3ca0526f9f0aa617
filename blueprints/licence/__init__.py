"""Measure 1: the electronic driving licence (电子驾驶证) for holders, and licence records for
licence clerks. The verifier that checks its codes is the separate `verify` blueprint."""

from flask import Blueprint

bp = Blueprint("licence", __name__, url_prefix="/licence")

from . import cli, correction_views, receipt_views, records, relay, views  # noqa: E402,F401  (they register)
from .measure import MEASURE  # noqa: E402,F401  (what the app registers: core.measures)
