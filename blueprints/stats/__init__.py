"""Operations statistics (运行统计): the administrators' dashboard, the day's public report with
advice on when to apply, and `flask stats report`.

Modules: figures (what the dashboard reads), report (the public report's sentences and advice),
charts (SVG drawn on the server), export (CSV), forms, views, cli, labels.
"""

from flask import Blueprint

bp = Blueprint("stats", __name__)

from . import cli, views  # noqa: E402,F401  (they register themselves on bp)
