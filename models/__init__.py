"""Peewee models of jiaoguan and the database handle; query logic lives on model methods.

Import models from here (`from models import User, db`); the submodules are split by subject.
"""

from .audit import AuditChainHead, AuditEvent
from .base import BaseModel, db, for_update, is_postgres, utcnow, write_tx
from .evidence import (
    ACCESS_KINDS,
    CASE_STATUSES,
    EVIDENCE_CATEGORIES,
    PARTY_ROLES,
    PROCEDURES,
    WITHHOLD_REASONS,
    AccidentCase,
    CaseParty,
    EvidenceAccess,
    EvidenceItem,
)
from .licence import (
    LICENCE_CLASSES,
    RECORD_STATUSES,
    ELicence,
    LicenceCheck,
    LicenceRecord,
    ShareCode,
)
from .people import (
    ACCIDENT_OFFICER,
    ADMIN,
    CITIZEN,
    LICENCE_CLERK,
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

# Every table, in dependency order (for create_tables in migrations and tests).
ALL_MODELS = [
    Office,
    User,
    UserRole,
    AuditChainHead,
    AuditEvent,
    Throttle,
    Setting,
    LicenceRecord,
    ELicence,
    LicenceCheck,
    ShareCode,
    AccidentCase,
    CaseParty,
    EvidenceItem,
    EvidenceAccess,
]

__all__ = [
    "ACCESS_KINDS",
    "ACCIDENT_OFFICER",
    "ADMIN",
    "ALL_MODELS",
    "CASE_STATUSES",
    "CITIZEN",
    "EVIDENCE_CATEGORIES",
    "LICENCE_CLERK",
    "OFFICE_KINDS",
    "PARTY_ROLES",
    "POLICE_INSPECTOR",
    "PROCEDURES",
    "STAFF_ROLES",
    "TRUCKPASS_CLERK",
    "VEHICLE_CLERK",
    "LICENCE_CLASSES",
    "RECORD_STATUSES",
    "WITHHOLD_REASONS",
    "AccidentCase",
    "AuditChainHead",
    "ELicence",
    "LicenceCheck",
    "LicenceRecord",
    "ShareCode",
    "AuditEvent",
    "BaseModel",
    "CaseParty",
    "EvidenceAccess",
    "EvidenceItem",
    "Office",
    "Setting",
    "Throttle",
    "User",
    "UserRole",
    "db",
    "for_update",
    "is_postgres",
    "utcnow",
    "write_tx",
]
