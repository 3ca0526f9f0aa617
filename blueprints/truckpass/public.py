"""The city's truck rules for everyone: in plain words, and "may truck X enter zone Y at T?"."""

from flask import abort, render_template, request, send_file
from flask_babel import get_locale

from core.forms import choices
from core.privacy import no_personal_data
from core.uploads import absolute_path
from models import RestrictedZone
from rules import truckrules
from rules.clock import beijing_now

from . import bp, service
from .forms import MayEnterForm


@bp.get("/rules")
@no_personal_data
def rules():
    """The rules of every zone in force, and the question form (a GET form: no login, no CSRF)."""
    zones = list(service.active_zones())
    rules_of = service.rules_by_zone([z.id for z in zones])
    form = MayEnterForm(request.args)
    form.zone.choices = choices((z.id, z.display_name(str(get_locale()))) for z in zones)
    answer = None
    if form.at.data and not 2000 <= form.at.data.year <= 2100:
        form.at.data = None  # a far-off year is a typing mistake: ask about now instead
    if request.args and form.validate() and form.zone.data in rules_of:
        at = form.at.data or beijing_now()
        classes = {form.truck_class.data} | ({"hazardous"} if form.hazardous.data else set())
        answer, restricting = truckrules.may_enter(
            rules_of[form.zone.data], classes, form.emission.data, at
        )
        answer = {"code": answer, "at": at, "rules": restricting}
    elif not request.args:
        form.at.data = beijing_now().replace(second=0, microsecond=0)
    return render_template(
        "truckpass/rules.html", zones=zones, rules_of=rules_of, form=form, answer=answer
    )


@bp.get("/zones/<int:zone_id>/map")
@no_personal_data
def zone_map(zone_id: int):
    """A zone's map image."""
    zone = RestrictedZone.get_or_none(RestrictedZone.id == zone_id)
    if zone is None or not zone.map_image:
        abort(404)
    return send_file(absolute_path(zone.map_image), max_age=3600)
