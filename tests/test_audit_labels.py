"""Every audit action the code can write has a label in English and in Chinese.

The actions are found in the source, not listed by hand: an AST walk finds every call of
`audit()` and of the functions that hand their `action` on to it (the state machine's `apply`,
the transfer's `move`...), and the state machines' default "<name>.<state>" actions are
enumerated from their transition tables. An action the walk cannot resolve fails the test, so
a new way of writing actions has to be taught here rather than slip through unlabelled.
"""

import ast
import importlib
import pkgutil
from pathlib import Path

import pytest
from flask_babel import force_locale

from core.audit import action_label
from core.states import StateMachine

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["app.py", "core", "models", "rules", "blueprints"]


def source_files() -> list[Path]:
    """Every Python file of the application (not the tests, not the migrations)."""
    files = []
    for name in SOURCES:
        path = ROOT / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def parse_all() -> dict[Path, ast.Module]:
    """The syntax tree of every source file."""
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in source_files()}


def call_name(call: ast.Call) -> str | None:
    """The called function's own name (`audit`, `move`, `apply`), however it is reached."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def action_param(fn: ast.FunctionDef) -> tuple[int | None, bool] | None:
    """Where `fn` takes `action`: (its position without self, or None if keyword-only)."""
    positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    is_method = bool(positional) and positional[0] in ("self", "cls")
    if is_method:
        positional = positional[1:]
    if "action" in positional:
        return positional.index("action"), is_method
    if "action" in [a.arg for a in fn.args.kwonlyargs]:
        return None, is_method
    return None


def action_arg(call: ast.Call, position: int | None) -> ast.expr | None:
    """The expression a call passes as `action` (None when it passes none)."""
    for keyword in call.keywords:
        if keyword.arg == "action":
            return keyword.value
    if position is not None and len(call.args) > position:
        return call.args[position]
    return None


def mentions_action(expr: ast.expr | None) -> bool:
    """True when `expr` hands on the enclosing function's own `action` parameter."""
    return expr is not None and any(
        isinstance(node, ast.Name) and node.id == "action" for node in ast.walk(expr)
    )


def carriers(trees: dict) -> dict[str, int | None]:
    """The functions that write their `action` argument to the audit log, by name.

    `audit` itself, and (to a fixed point) every function with an `action` parameter that it
    passes on to one of them.
    """
    found = {"audit": 0}
    functions = [
        node
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and action_param(node) is not None
    ]
    changed = True
    while changed:
        changed = False
        for fn in functions:
            if fn.name in found:
                continue
            for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call)):
                name = call_name(call)
                if name in found and mentions_action(action_arg(call, found[name])):
                    found[fn.name] = action_param(fn)[0]
                    changed = True
                    break
    return found


def module_dicts(tree: ast.Module) -> dict[str, list[str]]:
    """The string values of the module-level dict literals (ACCESS_ACTIONS = {...})."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            values = [v.value for v in node.value.values if isinstance(v, ast.Constant)]
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = values
    return found


def state_machines() -> dict[str, StateMachine]:
    """Every module-level StateMachine of the application, by the name it is bound to."""
    machines = {}
    for package in ("blueprints", "core", "models"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if isinstance(value, StateMachine):
                    machines[name] = value
    return machines


def machine_actions(machine: StateMachine) -> set[str]:
    """The "<name>.<state>" actions a machine writes when it is not given one."""
    targets = set().union(*machine.transitions.values())
    return {f"{machine.name}.{state}" for state in targets}


def fstring_actions(app) -> dict[str, set[str]]:
    """How each f-string action of the source expands (add a line for a new one)."""
    machines = state_machines()
    staff_rule = next(r for r in app.url_map.iter_rules() if r.endpoint == "staff.account_action")
    return {
        # blueprints/staff.py: the account actions of the URL's any() converter.
        "f'staff.{action}'": set().union(
            *(
                {f"staff.{item}" for item in getattr(converter, "items", ())}
                for converter in staff_rule._converters.values()
            )
        ),
        # blueprints/evidence/views.py: a case's progress, one action per state it moves to.
        "f'evidence.case.{to}'": machine_actions(machines["CASE_PROGRESS"]),
        # core/states.py: the machine's default; enumerated below where apply() is called bare.
        "f'{self.name}.{to_state}'": set(),
    }


def written_actions(app) -> tuple[set[str], list[str]]:
    """Every audit action the source can write, and what could not be resolved."""
    trees = parse_all()
    found_carriers = carriers(trees)
    fstrings = fstring_actions(app)
    machines = state_machines()
    actions, unresolved = set(), []

    def resolve(expr, where, dicts):
        """Add the actions `expr` can evaluate to."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            actions.add(expr.value)
        elif isinstance(expr, ast.IfExp):
            resolve(expr.body, where, dicts)
            resolve(expr.orelse, where, dicts)
        elif isinstance(expr, ast.BoolOp):
            for value in expr.values:
                resolve(value, where, dicts)
        elif isinstance(expr, ast.JoinedStr):
            text = ast.unparse(expr)
            if text in fstrings:
                actions.update(fstrings[text])
            else:
                unresolved.append(f"{where}: {text}")
        elif (
            isinstance(expr, ast.Subscript)
            and isinstance(expr.value, ast.Name)
            and expr.value.id in dicts
        ):
            actions.update(dicts[expr.value.id])
        elif isinstance(expr, ast.Name) and expr.id == "action":
            pass  # handed on by a carrier: its callers are walked too
        else:
            unresolved.append(f"{where}: {ast.unparse(expr)}")

    for path, tree in trees.items():
        dicts = module_dicts(tree)
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = call_name(call)
            if name not in found_carriers:
                continue
            where = f"{path.relative_to(ROOT)}:{call.lineno}"
            expr = action_arg(call, found_carriers[name])
            if expr is not None:
                resolve(expr, where, dicts)
            elif name == "apply" and isinstance(call.func, ast.Attribute):
                machine = machines.get(ast.unparse(call.func.value).split(".")[-1])
                if machine is None:
                    unresolved.append(f"{where}: {ast.unparse(call)}")
                else:
                    actions.update(machine_actions(machine))
            # Any other call without an action is a namesake (a carrier's action is required).
    return actions, unresolved


def test_the_walk_finds_the_actions_of_every_kind(app):
    """The walk sees plain calls, carriers, dicts, f-strings and bare state-machine moves."""
    actions, unresolved = written_actions(app)
    assert unresolved == []
    assert {
        "login.ok",  # audit("...")
        "transfer.inspected",  # move(case, state, "...")
        "transfer.declined",  # _close(...) -> move(...)
        "evidence.item_download",  # audit(ACCESS_ACTIONS[kind])
        "evidence.item_withhold",  # audit("..." if released else "...")
        "staff.reset_totp",  # f"staff.{action}" over the URL's any()
        "evidence.case.closed",  # f"evidence.case.{to}"
        "truck_pass.pending_review",  # PASS_STATE.apply(...) without an action
        "licence_record.suspended",  # RECORD_STATUS.apply(...) without an action
    } <= actions


def test_every_written_action_has_a_label_in_both_languages(app):
    """No audit action shows as a raw key in the audit search or a citizen's own log."""
    actions, _ = written_actions(app)
    missing = []
    with app.test_request_context():
        for action in sorted(actions):
            with force_locale("en"):
                english = action_label(action)
            with force_locale("zh"):
                chinese = action_label(action)
            if english == action or chinese == action:
                missing.append(f"{action}: no label")
            elif chinese == english:
                missing.append(f"{action}: no Chinese translation of {english!r}")
    assert missing == []


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_an_unknown_action_shows_as_itself(app, locale):
    """An action from an older release (or a test) is shown raw rather than hidden."""
    with app.test_request_context(), force_locale(locale):
        assert action_label("no.such_action") == "no.such_action"
