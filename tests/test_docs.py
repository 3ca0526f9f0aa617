"""The documents the code depends on stay true to it.

The README's settings table is written by hand, so a setting added to `app.SETTINGS` (or a
default changed) without its row would leave operators guessing; and the code cites the design
by section (`docs/DESIGN.md#<section>`), so a renamed heading would leave a citation pointing
nowhere. Both are checked here rather than generated, so the documents stay readable prose.
"""

import os
import re

from app import SETTINGS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
DESIGN = os.path.join(ROOT, "docs", "DESIGN.md")

# Read by create_app itself rather than from SETTINGS: the secret key's default is generated
# into the instance folder on first start, and the instance folder is where SETTINGS' own
# defaults point, so it is needed before them.
OUTSIDE_SETTINGS = {"SECRET_KEY", "INSTANCE_PATH"}
# Where the README shows the instance folder in a default ("{instance}" in SETTINGS).
README_INSTANCE = "instance"

# Folders that hold no code of ours (environments, caches, build output, the bench's city).
SKIPPED_DIRS = {".venv", ".git", "instance", "__pycache__", ".pytest_cache", "out", "build"}
CITING_FILES = (".py", ".html", ".md", ".css", ".lua", ".toml", ".cfg", ".sh", ".service")
# In code (as opposed to the documents), a citation of the design must name its section.
CODE_FILES = (".py", ".html", ".css", ".js", ".lua", ".sh")
DESIGN_CITATION = re.compile(r"docs/DESIGN\.md#([\w-]+)")


def readme_settings() -> dict[str, str]:
    """The README's configuration table as {setting: default as shown, backticks removed}."""
    with open(README, encoding="utf-8") as fh:
        text = fh.read()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", cells[0]) if len(cells) >= 3 else None
        if match:
            rows[match.group(1)] = cells[1].replace("`", "")
    return rows


def heading_anchors(path: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped,
    spaces as hyphens ("Between deployments (the network)" -> between-deployments-the-network).
    """
    anchors = set()
    in_fence = False
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("```"):
                in_fence = not in_fence
            match = None if in_fence else re.match(r"#{1,6} +(.+?)\s*$", line)
            if match:
                title = match.group(1).lower()
                anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def project_files(suffixes: tuple[str, ...]):
    """Every file of the project with one of `suffixes` (plus Makefile and .ci/run), but this
    one, whose examples of citations are not citations."""
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in files:
            path = os.path.join(folder, name)
            if path == os.path.abspath(__file__):
                continue
            if name.endswith(suffixes) or name in ("Makefile", "run"):
                yield path


def citations() -> list[tuple[str, str]]:
    """(file, section) for every citation of a design section in the project."""
    found = []
    for path in project_files(CITING_FILES):
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        rel = os.path.relpath(path, ROOT)
        found += [(rel, section) for section in DESIGN_CITATION.findall(text)]
    return found


def test_the_readme_lists_every_setting_with_its_default():
    """Exactly the settings of app.SETTINGS (and those read before them), each with the default
    it has."""
    shown = readme_settings()
    assert set(shown) == set(SETTINGS) | OUTSIDE_SETTINGS
    for name, default in SETTINGS.items():
        if default:
            assert shown[name] == default.format(instance=README_INSTANCE), name
        else:  # an empty default is worked out at run time: the README says from what
            assert shown[name], name


def test_the_table_parser_reads_the_rows_it_should():
    """A guard on the test above: the parser finds known rows with their defaults as shown."""
    shown = readme_settings()
    assert shown["DATABASE_URL"] == "sqlite:///instance/jiaoguan.db"
    assert shown["MAX_CONTENT_LENGTH"] == "10485760"
    assert shown["SECRET_KEY"].startswith("generated once")


def test_every_cited_design_section_exists():
    """Each `docs/DESIGN.md#section` cited anywhere is a heading of docs/DESIGN.md."""
    anchors = heading_anchors(DESIGN)
    found = citations()
    assert len({rel for rel, _ in found}) >= 6  # the code does cite the design
    missing = [(rel, section) for rel, section in found if section not in anchors]
    assert missing == []


def test_code_cites_the_design_by_section():
    """In code, every mention of the design document is docs/DESIGN.md#<section>, so a reader
    lands on the rule and the test above can check it."""
    loose = []
    for path in project_files(CODE_FILES):
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if "DESIGN.md" not in line:
                    continue  # the pattern's leading \S* is slow on minified lines
                for match in re.finditer(r"(\S*)DESIGN\.md(#[\w-]+)?", line):
                    if not match.group(1).endswith("docs/") or not match.group(2):
                        loose.append(f"{os.path.relpath(path, ROOT)}:{number}")
    assert loose == []


def test_heading_anchors_follow_githubs_rule():
    """The anchor rule on the headings whose anchors the code cites most."""
    anchors = heading_anchors(DESIGN)
    assert {"the-verifier", "verdicts", "transactions", "services", "access", "audit"} <= anchors
    assert "between-deployments-the-network" in anchors


def test_no_process_notes_in_code():
    """Code says what a thing is and why, never which issue or ticket brought it: the history
    lives in git, and a note such as "since issue 18" means nothing to the next reader."""
    notes = []
    for path in project_files(CODE_FILES):
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if re.search(r"\b(issue|ticket)\s+#?\d+", line, re.IGNORECASE):
                    notes.append(f"{os.path.relpath(path, ROOT)}:{number}")
    assert notes == []
