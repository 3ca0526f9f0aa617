"""Offices, citizens and staff accounts, and the roles that govern what each may do."""

import secrets

from flask_login import UserMixin
from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from .base import BaseModel, compiled_get, compiled_select, utcnow

# Role names are stored as these strings; their labels live in core.access.ROLE_LABELS.
CITIZEN = "citizen"
ADMIN = "admin"
LICENCE_CLERK = "licence_clerk"
VEHICLE_CLERK = "vehicle_clerk"
TRUCKPASS_CLERK = "truckpass_clerk"
ACCIDENT_OFFICER = "accident_officer"
POLICE_INSPECTOR = "police_inspector"
# Staff of a used-car market (二手车交易市场) who issue the sale's unified invoice.
MARKET_CLERK = "market_clerk"
STAFF_ROLES = (
    ADMIN,
    LICENCE_CLERK,
    VEHICLE_CLERK,
    TRUCKPASS_CLERK,
    ACCIDENT_OFFICER,
    POLICE_INSPECTOR,
    MARKET_CLERK,
)

# A used-car market is an Office of kind "market": it has what an office has (a code, a name,
# a city), its clerks belong to it through User.office like any staff, and every audit row then
# names the market in its `office` column without a table of its own.
OFFICE_KINDS = ("vehicle_office", "police_brigade", "market")
# The roles each kind of office holds: a market's staff issue the sale's invoice and nothing
# else; the traffic police's offices hold the rest as their work is split between them (the
# vehicle office its counters, a brigade its officers on the road and at accidents).
OFFICE_ROLES = {
    "vehicle_office": frozenset({ADMIN, LICENCE_CLERK, VEHICLE_CLERK, TRUCKPASS_CLERK}),
    "police_brigade": frozenset({ADMIN, TRUCKPASS_CLERK, ACCIDENT_OFFICER, POLICE_INSPECTOR}),
    "market": frozenset({MARKET_CLERK}),
}
# Roles no account holds together with administration: an administrator creates accounts, and
# one who also confirmed counter acts could create the second clerk of their own (the four eyes
# of core.identity).
NOT_WITH_ADMIN = frozenset({LICENCE_CLERK, VEHICLE_CLERK})


def roles_refused(office_kind: str, roles) -> str | None:
    """Why an account of an office of this kind may not hold these roles ("office" or
    "admin"), or None."""
    roles = set(roles)
    if roles - OFFICE_ROLES.get(office_kind, frozenset()):
        return "office"
    if ADMIN in roles and roles & NOT_WITH_ADMIN:
        return "admin"
    return None


class Office(BaseModel):
    """A vehicle office (车管所), traffic-police brigade (交警大队) or used-car market of a city."""

    code = CharField(max_length=16, unique=True)
    name = CharField(max_length=100)
    name_en = CharField(max_length=100)
    kind = CharField(max_length=20)
    city = CharField(max_length=50)
    city_en = CharField(max_length=50)
    # Plate prefix of the city, e.g. 鲁B for Qingdao.
    plate_prefix = CharField(max_length=4)
    is_local = BooleanField(default=True)
    # Where people bring a car or papers: shown in the next-step sentences.
    address = CharField(max_length=200, default="")
    address_en = CharField(max_length=200, default="")
    created_at = DateTimeField(default=utcnow)

    def display_address(self, locale: str) -> str:
        """The office's street address in the given UI language ('' when not recorded)."""
        if locale.startswith("en") and self.address_en:
            return self.address_en
        return self.address

    def display_name(self, locale: str) -> str:
        """The office's name in the given UI language."""
        return self.name_en if locale.startswith("en") else self.name


class User(UserMixin, BaseModel):
    """A person who logs in: a citizen (by mobile or ID number) or staff (username + TOTP)."""

    is_staff = BooleanField(default=False)
    username = CharField(max_length=40, unique=True, null=True)
    real_name = CharField(max_length=50)
    resident_id = CharField(max_length=18, unique=True, null=True)
    mobile = CharField(max_length=11, unique=True, null=True)
    password_hash = CharField(max_length=255)
    office = ForeignKeyField(Office, null=True, backref="staff", on_delete="RESTRICT")
    totp_secret = CharField(max_length=64, null=True)
    totp_enrolled_at = DateTimeField(null=True)
    # The last TOTP time step accepted: a code is good once only.
    totp_last_step = IntegerField(null=True)
    # Part of the login cookie's identity: changing it logs out every session of the user.
    session_token = CharField(max_length=32, default=lambda: secrets.token_hex(16))
    active = BooleanField(default=True)
    locale = CharField(max_length=10, null=True)
    # Notices (core.notices): an optional e-mail address, and the channels the person chose
    # besides the inbox on the site, which every notice reaches.
    email = CharField(max_length=254, null=True)
    notice_sms = BooleanField(default=False)
    notice_email = BooleanField(default=False)
    # When the mobile number was tied to the person of the ID number (a code to it came back
    # in an identity proof, a clerk set it after seeing the ID card, or a proven account moved
    # to it); None for a number only typed at registration. A password reset by SMS to an
    # untied number withdraws the identity proofs (blueprints/auth/reset.py).
    mobile_tied_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    @property
    def is_active(self) -> bool:
        """Flask-Login: deactivated accounts cannot log in or stay logged in."""
        return self.active

    def keep_office(self, office: Office) -> None:
        """Keep this account's own office, read already with another row (an accident case's
        brigade): `self.office` then needs no lookup of its own (the audit row of each act
        names it). Nothing changes, so nothing is left for a save() to write."""
        if office.id != self.office_id:
            raise ValueError(f"office {office.id} is not the account's office {self.office_id}")
        self.office = office
        self._dirty.discard("office")

    def get_id(self) -> str:
        """Flask-Login's cookie identity: id plus session token, so a token change ends sessions."""
        return f"{self.id}:{self.session_token}"

    @classmethod
    def by_id(cls, user_id: int) -> "User | None":
        """The account with this id, or None (SQL text built once: every notice reads its
        account's preferences, and an e-licence application writes one)."""
        return compiled_get(cls, "user-by-id", lambda: cls.select().where(cls.id == 0), user_id)

    @property
    def roles(self) -> frozenset:
        """The set of role names of this account (cached per object)."""
        if not hasattr(self, "_roles"):
            if not self.is_staff:
                self._roles = frozenset({CITIZEN})
            else:
                # Every page of a staff account asks: the SQL text is built once.
                rows = compiled_select(
                    UserRole,
                    "user-roles-of-user",
                    lambda: UserRole.select(UserRole.role).where(UserRole.user == 0),
                    self.id,
                )
                self._roles = frozenset(r.role for r in rows)
        return self._roles

    def has_role(self, *roles: str) -> bool:
        """True when the account holds any of the given roles."""
        return bool(self.roles.intersection(roles))

    def set_roles(self, roles) -> None:
        """Replace the account's roles (call inside a write transaction)."""
        UserRole.delete().where(UserRole.user == self).execute()
        for role in sorted(set(roles)):
            UserRole.create(user=self, role=role)
        self._roles = frozenset(roles)

    def rotate_session_token(self) -> None:
        """End every existing session of this account (used at password change and logout-all)."""
        self.session_token = secrets.token_hex(16)
        User.update(session_token=self.session_token).where(User.id == self.id).execute()

    @property
    def needs_totp_enrolment(self) -> bool:
        """Staff without an enrolled authenticator must enrol before anything else."""
        return self.is_staff and self.totp_enrolled_at is None

    def accept_totp_step(self, step: int) -> bool:
        """Mark a TOTP time step used, once: a conditional update, safe across processes."""
        updated = (
            User.update(totp_last_step=step)
            .where(
                (User.id == self.id)
                & (User.totp_last_step.is_null() | (User.totp_last_step < step))
            )
            .execute()
        )
        if updated:
            self.totp_last_step = step
        return updated == 1


class UserRole(BaseModel):
    """One role held by a staff account."""

    user = ForeignKeyField(User, backref="role_rows", on_delete="CASCADE")
    role = CharField(max_length=30)

    class Meta:
        indexes = ((("user", "role"), True),)
