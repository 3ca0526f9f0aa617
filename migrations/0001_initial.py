"""The platform's tables: offices, people and roles, the audit chain, throttles, settings.

Python-side defaults (timestamps, session tokens) live on the models, not in the schema.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    class AuditChainHead(Model):
        seq = BigIntegerField(default=0)
        hash = CharField(
            max_length=64,
            default="0000000000000000000000000000000000000000000000000000000000000000",
        )

        class Meta:
            database = db
            table_name = "audit_chain_head"

    db.create_tables([AuditChainHead])

    class AuditEvent(Model):
        seq = BigIntegerField(unique=True)
        at = DateTimeField(index=True)
        actor_id = IntegerField(index=True, null=True)
        actor = CharField(max_length=60, default="")
        role = CharField(max_length=60, default="")
        office = CharField(max_length=16, default="")
        action = CharField(index=True, max_length=60)
        object_type = CharField(max_length=30, default="")
        object_id = CharField(index=True, max_length=64, default="")
        result = CharField(max_length=30, default="ok")
        client_addr = CharField(max_length=64, default="")
        detail = TextField(default="{}")
        prev_hash = CharField(max_length=64)
        hash = CharField(max_length=64)

        class Meta:
            database = db
            table_name = "audit_event"
            indexes = ((("object_type", "object_id"), False),)

    db.create_tables([AuditEvent])

    class Office(Model):
        code = CharField(unique=True, max_length=16)
        name = CharField(max_length=100)
        name_en = CharField(max_length=100)
        kind = CharField(max_length=20)
        city = CharField(max_length=50)
        city_en = CharField(max_length=50)
        plate_prefix = CharField(max_length=4)
        is_local = BooleanField(default=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "office"

    db.create_tables([Office])

    class Setting(Model):
        key = CharField(primary_key=True, max_length=60)
        value = TextField(default="")

        class Meta:
            database = db
            table_name = "setting"

    db.create_tables([Setting])

    class Throttle(Model):
        key = CharField(primary_key=True, max_length=120)
        failures = IntegerField(default=0)
        window_start = DateTimeField()
        locked_until = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "throttle"

    db.create_tables([Throttle])

    class User(Model):
        is_staff = BooleanField(default=False)
        username = CharField(unique=True, null=True, max_length=40)
        real_name = CharField(max_length=50)
        resident_id = CharField(unique=True, null=True, max_length=18)
        mobile = CharField(unique=True, null=True, max_length=11)
        password_hash = CharField()
        office = ForeignKeyField(Office, null=True, on_delete="RESTRICT")
        totp_secret = CharField(null=True, max_length=64)
        totp_enrolled_at = DateTimeField(null=True)
        totp_last_step = IntegerField(null=True)
        session_token = CharField(max_length=32)
        active = BooleanField(default=True)
        locale = CharField(null=True, max_length=10)
        created_at = DateTimeField()
        last_login_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "user"

    db.create_tables([User])

    class UserRole(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        role = CharField(max_length=30)

        class Meta:
            database = db
            table_name = "user_role"
            indexes = ((("user", "role"), True),)

    db.create_tables([UserRole])
    make_audit_append_only(db)


def make_audit_append_only(db):
    """Refuse UPDATE and DELETE on the audit table in the database itself."""
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(
            "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'restrict_violation'; "
            "END; $$ LANGUAGE plpgsql"
        )
        for op in ("UPDATE", "DELETE"):
            db.execute_sql(
                f"CREATE TRIGGER audit_event_no_{op.lower()} BEFORE {op} ON audit_event "
                "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
            )
        return
    for op in ("UPDATE", "DELETE"):
        db.execute_sql(
            f"CREATE TRIGGER audit_event_no_{op.lower()} BEFORE {op} ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
        )


def down(migrator, db):
    migrator.migrate(migrator.drop_table("user_role"))
    migrator.migrate(migrator.drop_table("user"))
    migrator.migrate(migrator.drop_table("throttle"))
    migrator.migrate(migrator.drop_table("setting"))
    migrator.migrate(migrator.drop_table("office"))
    migrator.migrate(migrator.drop_table("audit_event"))
    migrator.migrate(migrator.drop_table("audit_chain_head"))
