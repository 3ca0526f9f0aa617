"""Accounts: citizen registration, login, staff two-factor login and enrolment, the account page."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import mobile_views, registration_views, views  # noqa: E402,F401  (views register themselves on bp)
