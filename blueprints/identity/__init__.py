"""Proving one's identity (身份核验): the citizen's page with the three ways, the clerks' counter
activation and, while the development SMS gateway is active, the page that shows its messages."""

from flask import Blueprint

bp = Blueprint("identity", __name__)

from . import counter_mobile, views  # noqa: E402,F401  (views register themselves on bp)
