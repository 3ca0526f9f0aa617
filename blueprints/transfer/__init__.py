"""Measure 2: cross-region second-hand vehicle transfer (二手车异地交易登记).

A buyer of this city buys a car registered in another city: the sale is invoiced at a used-car
market (or by the buyer), seller and buyer confirm it, this city's vehicle office inspects the
vehicle, the other city's office sends the vehicle's archive online, and this city's office
registers the vehicle to the buyer under a plate of this city. Nobody travels between cities.

Modules: views (citizens' pages and the case page), clerk_views (queues and clerks' steps),
forms, service (the steps), checks (the conditions checked at every step), archive (the archive
document), labels (what states and reasons are called), demo (the demo city's vehicles); for a
vehicle of another city, links (asking the origin), network (the protocol, the destination's
handlers) and network_origin (the origin's handlers and steps), outgoing_views (the origin's
pages).
"""

from flask import Blueprint

bp = Blueprint("transfer", __name__, url_prefix="/transfer")

from . import clerk_views, cli, network, network_origin, outgoing_views, receipt_views, views  # noqa: E402,F401  (views and message handlers register themselves)
from .measure import MEASURE  # noqa: E402,F401  (what the app registers: core.measures)
