"""The service convention (core.steps) and the place of compiled SQL, checked on the source.

Services take their actor explicitly and never answer HTTP themselves, so no service module
imports request globals or abort; compiled SQL text stays behind named query methods inside
models/, so no module outside it imports the compiled_* helpers.
"""

import ast
from pathlib import Path

import pytest
from wtforms import Form, StringField

from core.steps import LostRace, StepError, form_error, run_step

ROOT = Path(__file__).resolve().parent.parent
SERVICES = sorted(ROOT.glob("blueprints/*/service.py")) + sorted(
    ROOT.glob("blueprints/*/office_service.py")
)
REQUEST_GLOBALS = {
    "flask": {"request", "session", "g", "abort"},
    "flask_login": {"current_user"},
}


def imported_names(path: Path) -> set[tuple[str, str]]:
    """Every (module, name) a module imports with `from module import name`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        (node.module or "", alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_the_services_are_found():
    assert {p.parent.name for p in SERVICES} >= {"licence", "transfer", "truckpass", "evidence"}


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: str(p.relative_to(ROOT)))
def test_services_read_no_request_globals_and_do_not_abort(path):
    used = {
        (module, name)
        for module, name in imported_names(path)
        if name in REQUEST_GLOBALS.get(module, set())
    }
    assert not used, f"{path.name} imports {sorted(used)}: pass the actor, raise StepError"


def python_files_outside_models():
    """The project's modules outside models/ (tests may exercise the helpers themselves)."""
    skip = {"models", "tests", ".venv", "migrations"}
    return [
        p
        for p in ROOT.rglob("*.py")
        if not skip & set(p.relative_to(ROOT).parts[:1]) and ".venv" not in p.parts
    ]


def test_compiled_sql_stays_inside_models():
    leaks = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in python_files_outside_models()
        for module, name in imported_names(path)
        if module == "models.base" and name.startswith("compiled_")
    ]
    assert not leaks


def test_step_error_keeps_its_message_and_field():
    refusal = StepError("Choose at least one zone.", "zones")
    assert (refusal.message, refusal.field, str(refusal)) == (
        "Choose at least one zone.",
        "zones",
        "Choose at least one zone.",
    )
    assert StepError("Not now.").field is None


class _Form(Form):
    plate = StringField()


def test_form_error_puts_a_refusal_next_to_its_field_or_on_the_form():
    form = _Form()
    form.validate()
    form_error(form, StepError("Unknown plate.", "plate"))
    form_error(form, StepError("Not now."))
    form_error(form, StepError("Odd field.", "no_such_field"))
    assert form.plate.errors == ["Unknown plate."]
    assert form.form_errors == ["Not now.", "Odd field."]


def test_run_step_turns_a_lost_race_into_its_refusal_and_rolls_back(app, make, conn):
    from models import User

    user = make.citizen(locale="zh")

    def step():
        User.update(locale="en").where(User.id == user.id).execute()
        raise LostRace

    with app.test_request_context(), conn():
        with pytest.raises(StepError) as refused:
            run_step(step, lost="Someone was first.")
        assert refused.value.message == "Someone was first."
        assert User.get_by_id(user.id).locale == "zh"
        assert run_step(lambda: 42) == 42
