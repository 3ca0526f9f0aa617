"""Measure 4: online review of accident evidence (交通事故证据材料网上查阅).

Officers open cases, add the parties and upload evidence; the parties view it and download
watermarked copies once the accident determination has been delivered; every look is logged.

Modules: views (the pages), officer_views (the officers' acts), service (who sees what, the
case's progress, storing evidence), copies (a party's watermarked copies), files (drawing the
watermark), querycodes (the paper notice's code), review and review_views (a party's request
for review), period (the review period), receipt_views (receipts of the access log), notices,
labels, forms, demo, measure (the declaration).
"""

from flask import Blueprint

bp = Blueprint("evidence", __name__, url_prefix="/evidence")

from . import officer_views, receipt_views, review_views, views  # noqa: E402,F401  (the views attach themselves to bp)
from .measure import MEASURE  # noqa: E402,F401  (what the app registers: core.measures)
