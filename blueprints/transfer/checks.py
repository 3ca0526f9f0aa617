"""The conditions a transfer must meet, checked when the case opens and again at every step.

Each check answers ok or a reason (a small dict kept with the case and put into words by
labels.reason_text in the reader's language), so a stopped case always says why.
"""

import datetime as dt
from dataclasses import dataclass

from models import Office, TransferCase, TransferLink, User, Vehicle
from models.transfer import ARCHIVE_RECEIVED
from models.vehicles import NORMAL, TRANSFERRED_OUT
from rules.clock import beijing_today


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its code, and the reason when it failed."""

    code: str
    reason: dict | None = None

    @property
    def ok(self) -> bool:
        """True when the condition holds."""
        return self.reason is None


def check_vehicle_status(case: TransferCase, vehicle: Vehicle) -> CheckResult:
    """Not mortgaged, seized, stolen, scrapped or transferred out.

    Once this very case has had the archive sent, "transferred out" is the expected status.
    """
    if vehicle.status == NORMAL:
        return CheckResult("vehicle_status")
    if vehicle.status == TRANSFERRED_OUT and case.state == ARCHIVE_RECEIVED:
        return CheckResult("vehicle_status")
    return CheckResult("vehicle_status", {"code": "vehicle_status", "status": vehicle.status})


def check_violations(vehicle: Vehicle) -> CheckResult:
    """No traffic violation of the vehicle is left unhandled."""
    n = vehicle.unhandled_violations().count()
    return CheckResult("violations", {"code": "violations", "n": n} if n else None)


def check_inspection(vehicle: Vehicle, today: dt.date) -> CheckResult:
    """The safety inspection is valid today."""
    if vehicle.inspection_valid_on(today):
        return CheckResult("inspection")
    until = vehicle.inspection_valid_until
    return CheckResult("inspection", {"code": "inspection", "until": until and until.isoformat()})


def buyer_is_local(buyer: User, destination: Office) -> bool:
    """The buyer's household is registered in the destination's city.

    Office codes are GB/T 2260 division codes; the first four digits name the city, as the
    first four digits of a resident ID number name the city of household registration.
    """
    return bool(buyer.resident_id) and buyer.resident_id[:4] == destination.code[:4]


def check_buyer(case: TransferCase, buyer: User, destination: Office) -> CheckResult:
    """The buyer may register a vehicle here: household in this city, or a residence permit."""
    if buyer_is_local(buyer, destination) or case.residence_permit_no:
        return CheckResult("buyer_eligible")
    return CheckResult("buyer_eligible", {"code": "buyer_eligible", "city": destination.city})


def waits_for_permit(case: TransferCase) -> bool:
    """The buyer's household is elsewhere and no residence permit number was given yet.

    Before the sale is confirmed this is something to ask for, not a reason to stop: the case
    waits at confirmation until the buyer gives the number (service.give_residence_permit).
    """
    buyer = User.get_by_id(case.buyer_id)
    return not check_buyer(case, buyer, Office.get_by_id(case.destination_office_id)).ok


def run_checks(case: TransferCase, today: dt.date | None = None) -> list[CheckResult]:
    """Every check, on fresh rows of the vehicle, buyer and destination.

    For a vehicle registered in another deployment, the vehicle's checks are the origin's: its
    last answer, kept with the case and made fresh before each step (links.fresh_checks)."""
    today = today or beijing_today()
    buyer = User.get_by_id(case.buyer_id)
    destination = Office.get_by_id(case.destination_office_id)
    link = TransferLink.get_or_none(TransferLink.case == case.id)
    if link is not None:
        failed = {r["code"]: r for r in link.reasons}
        codes = ["vehicle_status", "violations", "inspection"]
        codes += [c for c in failed if c not in codes]
        return [CheckResult(c, failed.get(c)) for c in codes] + [
            check_buyer(case, buyer, destination)
        ]
    vehicle = Vehicle.get_by_id(case.vehicle_id)
    return [
        check_vehicle_status(case, vehicle),
        check_violations(vehicle),
        check_inspection(vehicle, today),
        check_buyer(case, buyer, destination),
    ]


def failures(results: list[CheckResult]) -> list[dict]:
    """The reasons of the failed checks (empty when all pass)."""
    return [r.reason for r in results if not r.ok]
