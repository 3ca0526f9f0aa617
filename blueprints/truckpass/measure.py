"""The truck pass codes' declaration (core.measures): its links, cards, audit labels, demo
data and statistics."""

from flask_babel import lazy_gettext as _l

from core.measures import Card, Link, Measure, staff, typed_reason
from models import POLICE_INSPECTOR, TRUCKPASS_CLERK

from . import bp
from .demo import load_demo
from .labels import VERDICT_LABELS

MEASURE = Measure(
    name="truckpass",
    blueprint=bp,
    links=(
        Link("truckpass.index", _l("My truck passes")),
        Link("truckpass.queue", _l("Truck passes"), staff(TRUCKPASS_CLERK)),
        Link("truckpass.zones", _l("Truck rules"), staff(TRUCKPASS_CLERK)),
    ),
    staff_cards=(
        Card(
            "truckpass.queue",
            _l("Applications to review"),
            _l(
                "Approve or refuse truck-pass applications the rules do not approve by "
                "themselves; revoke passes."
            ),
            staff(TRUCKPASS_CLERK),
        ),
        Card(
            "truckpass.zones",
            _l("Truck rules"),
            _l(
                "Keep the restricted zones and their rules; the editor warns below 6 free hours "
                "a day."
            ),
            staff(TRUCKPASS_CLERK),
        ),
        # The verifier checks passes too: an inspector on the road asks by plate and zone.
        Card(
            "verify.truck_by_plate",
            _l("Check a truck pass"),
            _l("Type the plate and choose the zone the truck is in: is its pass valid there now?"),
            staff(POLICE_INSPECTOR),
        ),
    ),
    home_card=Card(
        "truckpass.index",
        _l("Truck pass codes"),
        _l(
            "Apply online for a pass into the restricted zones, with the city's rules shown in "
            "plain words."
        ),
        more=(("truckpass.rules", _l("The city's truck rules")),),
    ),
    audit_labels={
        "truck_pass.apply": _l("Truck pass applied for"),
        "truck_pass.approved": _l("Truck pass issued"),
        "truck_pass.pending_review": _l("Truck pass application sent for review"),
        "truck_pass.refused": _l("Truck pass refused"),
        "truck_pass.revoked": _l("Truck pass revoked"),
        "truck_pass.withdrawn": _l("Truck pass application withdrawn by the applicant"),
        "truck_pass.returned": _l("Truck pass returned by the applicant"),
        "truck_pass.check": _l("Truck pass checked"),
        "truck_pass.view": _l("Truck pass application viewed"),
        "truck_pass.queue_view": _l("Truck pass queue viewed"),
        "truck_pass.document_read": _l("Truck pass document read"),
        "truck_zone.save": _l("Restricted zone saved"),
        "truck_rule.add": _l("Truck rule added"),
        "truck_rule.edit": _l("Truck rule changed"),
        "truck_rule.delete": _l("Truck rule removed"),
    },
    audit_reasons={"truck_pass.refused": typed_reason, "truck_pass.revoked": typed_reason},
    demo=load_demo,
    result_labels=VERDICT_LABELS,  # a pass check's verdict
    statistics=("truck_pass",),
)
