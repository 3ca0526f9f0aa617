#!/usr/bin/env python3
"""Rename htmx's hx-* attributes to data-hx-* in the templates (and the tests that read them).

htmx reads both spellings; only data-hx-* is valid HTML, which the Nu HTML checker in the
standards test (tests/browser/test_standards_browser.py) requires. Idempotent: run it again
after merging a branch that added hx-* attributes. Prints what it changed and any hx- it left
(a spelling it does not know, to be looked at by hand); exits 1 when it left one.

Usage: scripts/hx-to-data-hx.py [--check]   (--check: change nothing, exit 1 if a change is due)
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# An attribute: hx-name (hx-on:event too) followed by "=", not already data-hx-.
ATTRIBUTE = re.compile(r"(?<![\w-])hx-([a-z]+(?:-[a-z]+)*(?::[:\w.-]*)?)(?=\s*=)")
# Tests reading an attribute by name: tag["hx-x"], get_attribute("hx-x"); not on a line about
# headers (HX-Request, HX-Trigger are htmx's request and response headers).
READ_IN_TEST = re.compile(r"""(\[|get_attribute\()(["'])hx-""")
LEFT = re.compile(r"(?<![\w-])hx-[a-z]")


def rename_in_template(text: str) -> str:
    """Every hx-* attribute written as data-hx-*."""
    return ATTRIBUTE.sub(r"data-hx-\1", text)


def rename_in_test(text: str) -> str:
    """Every read of an hx-* attribute by name made a read of data-hx-*."""
    return "".join(
        line if "header" in line.lower() else READ_IN_TEST.sub(r"\1\2data-hx-", line)
        for line in text.splitlines(keepends=True)
    )


def main(check: bool) -> int:
    """Rewrite the files (or only report, with check); 1 when a change is due or one is left."""
    due, left = [], []
    jobs = [(p, rename_in_template) for p in sorted((ROOT / "templates").rglob("*.html"))]
    jobs += [(p, rename_in_test) for p in sorted((ROOT / "tests").rglob("*.py"))]
    for path, rename in jobs:
        text = path.read_text(encoding="utf-8")
        new = rename(text)
        if new != text:
            due.append(path)
            if not check:
                path.write_text(new, encoding="utf-8")
        if path.suffix == ".html":
            left += [f"{path.relative_to(ROOT)}:{m.start()}" for m in LEFT.finditer(new)]
    for path in due:
        print(("would change " if check else "changed ") + str(path.relative_to(ROOT)))
    for where in left:
        print(f"left as it is (look at it by hand): {where}", file=sys.stderr)
    return 1 if left or (check and due) else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
