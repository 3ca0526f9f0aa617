"""Explicit state machines: a table of allowed transitions and one function that performs a
transition atomically (a conditional UPDATE whose row count is checked) and writes its audit row.

Two clerks acting on the same object at once can never both succeed: the second UPDATE finds the
row no longer in the state it saw and changes nothing.
"""

from core.audit import audit
from models import write_tx


class InvalidTransition(Exception):
    """The requested move is not in the table (a programming or input error, not a race)."""


class StateMachine:
    """The allowed moves of one status field: {from_state: {to_state, ...}}."""

    def __init__(self, name: str, field_name: str, transitions: dict[str, set[str]]):
        self.name = name
        self.field_name = field_name
        self.transitions = transitions

    def allowed(self, from_state: str, to_state: str) -> bool:
        """True when the table allows moving from `from_state` to `to_state`."""
        return to_state in self.transitions.get(from_state, set())

    def targets(self, from_state: str) -> set[str]:
        """Where an object in `from_state` may go next."""
        return set(self.transitions.get(from_state, set()))

    def apply(
        self, obj, to_state: str, *, action: str | None = None, detail=None, actor=None, **updates
    ):
        """Move `obj` from the state it was read in to `to_state`, with extra column updates;
        the audit row names `actor` (the request's user when None, as core.audit does).

        Returns True on success, False when another request changed the object first (nothing
        is written then). Raises InvalidTransition when the table forbids the move.
        """
        moved = self.apply_logged(
            obj, to_state, action=action, detail=detail, actor=actor, **updates
        )
        return moved is not None

    def apply_logged(
        self, obj, to_state: str, *, action: str | None = None, detail=None, actor=None, **updates
    ):
        """`apply`, returning the audit entry the move wrote (None when another request changed
        the object first), so a record of the step can name its entry in the same transaction
        (a transfer's timeline links each step to its receipt that way)."""
        model = type(obj)
        field = getattr(model, self.field_name)
        seen = getattr(obj, self.field_name)
        if not self.allowed(seen, to_state):
            raise InvalidTransition(f"{self.name}: {seen} -> {to_state}")
        with write_tx():
            changed = model.set_if(
                obj._pk,
                field,
                seen,
                {field: to_state, **{getattr(model, k): v for k, v in updates.items()}},
            )
            if changed != 1:
                return None
            entry = audit(
                action or f"{self.name}.{to_state}",
                obj,
                actor=actor,
                detail={"from": seen, "to": to_state, **(detail or {})},
            )
        setattr(obj, self.field_name, to_state)
        for key, value in updates.items():
            setattr(obj, key, value)
        return entry
