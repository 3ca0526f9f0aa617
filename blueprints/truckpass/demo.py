"""Demo truck rules and passes: three zones with realistic rules (one of them leaving too few
free hours, so the editor's warning shows), trucks in several states, passes in every state."""

import datetime as dt

from blueprints.evidence.demo import text_pdf
from blueprints.transfer.demo import demo_plate, demo_vin
from core.uploads import store_bytes
from models import (
    RestrictedZone,
    TruckPass,
    TruckPassDocument,
    TruckPassZone,
    Vehicle,
    ZoneRule,
    utcnow,
)
from models.truckpass import APPROVED, PENDING_REVIEW, REFUSED, REVOKED
from rules.clock import beijing_today
from rules.truckrules import format_windows, parse_windows
from rules.zonegeo import dump_boundary

ZONES = [
    (
        "市南老城区",
        "Shinan old town",
        "中山路、馆陶路一带的老城区，道路狭窄。",
        "The old town around Zhongshan Road and Guantao Road, with narrow streets.",
        [
            ("medium heavy", "12345", "07:00-09:00,17:00-19:00", "china5 china6 nev", 30, False),
            ("hazardous", "1234567", "06:00-22:00", "china6 nev", 7, True),
        ],
    ),
    (
        "崂山风景区",
        "Laoshan scenic area",
        "景区道路，夜间保护生态。",
        "Roads of the scenic area, kept quiet at night for its wildlife.",
        [
            ("heavy", "1234567", "22:00-06:00", "china6 nev", 15, False),
        ],
    ),
    (
        "胶州湾隧道",
        "Jiaozhou Bay tunnel",
        "隧道内禁止危险货物运输车辆通行。",
        "No vehicle carrying hazardous goods may use the tunnel.",
        [
            ("hazardous", "1234567", "00:00-24:00", "", 1, True),
        ],
    ),
]

# Plausible boundaries of the demo zones in Qingdao (WGS-84 lon/lat, traced by hand from the
# streets and the coast: the old town between Zhongshan Road and Guantao Road, the Laoshan
# scenic area on the eastern coast, and the bay tunnel's corridor from Tuandao to Xuejiadao).
BOUNDARIES = {
    "市南老城区": [
        [120.3045, 36.0625],
        [120.3185, 36.0610],
        [120.3300, 36.0640],
        [120.3335, 36.0720],
        [120.3260, 36.0790],
        [120.3120, 36.0800],
        [120.3030, 36.0735],
        [120.3045, 36.0625],
    ],
    "崂山风景区": [
        [120.5600, 36.1200],
        [120.6400, 36.1050],
        [120.7000, 36.1500],
        [120.6900, 36.2300],
        [120.6200, 36.2550],
        [120.5650, 36.2100],
        [120.5450, 36.1650],
        [120.5600, 36.1200],
    ],
    "胶州湾隧道": [
        [120.2440, 36.0190],
        [120.2480, 36.0168],
        [120.2990, 36.0610],
        [120.2955, 36.0638],
        [120.2440, 36.0190],
    ],
}

# Trucks of the demo: (citizen index, type, emission, status, inspection days from today).
TRUCKS = [
    (0, "heavy_truck", "china6", "normal", 200),
    (2, "medium_truck", "china5", "normal", 120),
    (4, "heavy_truck", "nev", "normal", 300),  # its cold-chain application waits for review
    (6, "heavy_truck", "china4", "normal", 90),
    (8, "heavy_truck", "china6", "normal", -15),  # inspection overdue
    (10, "medium_truck", "china5", "stolen", 100),
    (1, "heavy_truck", "china6", "seized", 100),
    (3, "light_truck", "china5", "scrapped", 100),
]


def load_demo(context) -> None:
    """Zones, trucks and passes in every state."""
    rng, today = context.rng, beijing_today()
    qingdao = context.offices["370200"]
    zones = []
    for name, name_en, description, description_en, rules in ZONES:
        zone = RestrictedZone.create(
            name=name,
            name_en=name_en,
            description=description,
            description_en=description_en,
            boundary=dump_boundary({"type": "Polygon", "coordinates": [BOUNDARIES[name]]}),
        )
        for classes, days, windows, emissions, max_days, review in rules:
            ZoneRule.create(
                zone=zone,
                classes=classes,
                days=days,
                windows=format_windows(parse_windows(windows)),
                emissions=emissions,
                max_days=max_days,
                needs_review=review,
            )
        zones.append(zone)
    taken = set(Vehicle.select(Vehicle.plate).tuples().iterator()) - {None}
    trucks = []
    for i, (who, vtype, emission, status, inspection) in enumerate(TRUCKS):
        owner = context.citizens[who]
        trucks.append(
            Vehicle.create(
                vin=demo_vin(rng, "LFW", 2019),
                plate=demo_plate(rng, "鲁B", taken),
                brand="解放" if "heavy" in vtype else "福田",
                model_name="J6P" if "heavy" in vtype else "奥铃",
                vehicle_type=vtype,
                colour="白",
                engine_no=f"CA6DM{rng.randint(10**6, 10**7)}",
                first_registered_on=today - dt.timedelta(days=900 + 30 * i),
                gross_mass_kg={"light_truck": 4495, "medium_truck": 12000}.get(vtype, 25000),
                emission_standard=emission,
                owner=owner,
                owner_name=owner.real_name,
                owner_resident_id=owner.resident_id,
                owner_mobile=owner.mobile,
                registration_office=qingdao,
                certificate_no=f"370200{rng.randint(10**9, 10**10 - 1)}",
                status=status,
                inspection_valid_until=today + dt.timedelta(days=inspection),
            )
        )
    old_town, laoshan = zones[0], zones[1]

    def issue(truck, zone, status, start, days, windows, reason="", purpose="建材配送"):
        p = TruckPass.create(
            applicant=truck.owner_id,
            vehicle=truck,
            plate=truck.plate,
            truck_class=truck.vehicle_type.split("_")[0],
            emission=truck.emission_standard,
            start_date=start,
            end_date=start + dt.timedelta(days=days - 1),
            windows=windows,
            purpose=purpose,
            status=status,
            reason=reason,
            decided_at=None if status == PENDING_REVIEW else utcnow(),
        )
        TruckPassZone.create(truck_pass=p, zone=zone)
        return p

    issue(trucks[0], old_town, APPROVED, today - dt.timedelta(days=3), 30, "00:00-24:00")
    issue(trucks[1], old_town, APPROVED, today, 14, "07:00-09:00")  # valid only in the morning
    issue(trucks[0], laoshan, APPROVED, today - dt.timedelta(days=40), 10, "22:00-06:00")  # expired
    waiting = issue(
        trucks[2],
        old_town,
        PENDING_REVIEW,
        today + dt.timedelta(days=1),
        5,
        "08:00-10:00",
        reason="documents",
        purpose="医药冷链",
    )
    # The document the clerk is to read (the review page had said so, and shown none).
    contract = text_pdf("冷链运输合同", ["承运方：青岛冷链物流有限公司", "货物：疫苗及药品，2-8 ℃"])
    TruckPassDocument.attach(
        waiting, store_bytes(contract, "truckpass", {"application/pdf"}, len(contract))
    )
    issue(trucks[3], old_town, REFUSED, today, 5, "07:00-09:00", reason="emission")
    issue(
        trucks[1],
        laoshan,
        REVOKED,
        today - dt.timedelta(days=2),
        10,
        "22:00-06:00",
        reason="违反通行规定，已撤销",
    )
    issue(trucks[2], laoshan, APPROVED, today + dt.timedelta(days=5), 3, "22:00-05:00")  # future
    context.notes.append(
        f"{context.citizens[0].real_name}: truck {trucks[0].plate}, pass valid now in the old town"
    )
