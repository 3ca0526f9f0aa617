"""The state-machine helper: allowed moves only, one winner when two act at once, audited."""

import pytest

from core.states import InvalidTransition, StateMachine
from models import AuditEvent, User

# A toy machine over the user's `locale` column, to test the mechanism on a real table.
MACHINE = StateMachine("toy", "locale", {"zh": {"en"}, "en": {"zh", "fr"}})


def test_allowed_moves_and_audit(app, make, conn):
    user = make.citizen(locale="zh")
    with app.test_request_context(), conn():
        user = User.get_by_id(user.id)
        assert MACHINE.apply(user, "en") is True
        assert User.get_by_id(user.id).locale == "en"
        row = AuditEvent.get(AuditEvent.action == "toy.en")
        assert row.detail_dict == {"from": "zh", "to": "en"}
        with pytest.raises(InvalidTransition):
            MACHINE.apply(user, "de")


def test_second_actor_on_a_stale_copy_changes_nothing(app, make, conn):
    user = make.citizen(locale="en")
    with app.test_request_context(), conn():
        first, second = User.get_by_id(user.id), User.get_by_id(user.id)
        assert MACHINE.apply(first, "zh") is True
        assert MACHINE.apply(second, "fr") is False
        assert User.get_by_id(user.id).locale == "zh"
        assert AuditEvent.select().where(AuditEvent.action.startswith("toy.")).count() == 1
