"""Peewee models of jiaoguan and the database handle; query logic lives on model methods.

Import models from here (`from models import User, db`); the submodules are split by subject.
"""

from .audit import AuditChainHead, AuditEvent
from .base import BaseModel, db, for_update, is_postgres, utcnow, write_tx
from .people import (
    ACCIDENT_OFFICER,
    ADMIN,
    CITIZEN,
    LICENCE_CLERK,
    MARKET_CLERK,
    OFFICE_KINDS,
    POLICE_INSPECTOR,
    STAFF_ROLES,
    TRUCKPASS_CLERK,
    VEHICLE_CLERK,
    Office,
    User,
    UserRole,
)
from .security import Setting, Throttle
from .transfer import (
    ArchiveTransfer,
    Inspection,
    InspectionPhoto,
    TransferCase,
    TransferEvent,
)
from .vehicles import PlateNumber, TrafficViolation, Vehicle, VehicleRecord

# Every table, in dependency order (for create_tables in migrations and tests).
ALL_MODELS = [Office, User, UserRole, AuditChainHead, AuditEvent, Throttle, Setting]
ALL_MODELS += [Vehicle, VehicleRecord, TrafficViolation, PlateNumber]
ALL_MODELS += [TransferCase, Inspection, InspectionPhoto, ArchiveTransfer, TransferEvent]

__all__ = [
    "ACCIDENT_OFFICER",
    "ADMIN",
    "ALL_MODELS",
    "CITIZEN",
    "LICENCE_CLERK",
    "MARKET_CLERK",
    "OFFICE_KINDS",
    "POLICE_INSPECTOR",
    "STAFF_ROLES",
    "TRUCKPASS_CLERK",
    "VEHICLE_CLERK",
    "ArchiveTransfer",
    "AuditChainHead",
    "AuditEvent",
    "BaseModel",
    "Inspection",
    "InspectionPhoto",
    "Office",
    "PlateNumber",
    "Setting",
    "Throttle",
    "TrafficViolation",
    "TransferCase",
    "TransferEvent",
    "User",
    "UserRole",
    "Vehicle",
    "VehicleRecord",
    "db",
    "for_update",
    "is_postgres",
    "utcnow",
    "write_tx",
]
