"""Screenshot pages of a running server at phone and desktop widths (for looking, not testing).

usage: .venv/bin/python scripts/screenshot.py http://127.0.0.1:5000/ [more URLs] [--out DIR]
"""

import argparse
import os
import re

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-sync",
    "--disable-component-update",
    "--no-first-run",
]


def main() -> None:
    """Take a 360x640 and a 1280x800 screenshot of each URL."""
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--out", default="shots")
    parser.add_argument("--lang", default="zh-CN")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for width, height in ((360, 640), (1280, 800)):
            page = browser.new_page(viewport={"width": width, "height": height}, locale=args.lang)
            for url in args.urls:
                page.goto(url)
                name = re.sub(r"[^a-z0-9]+", "_", url.split("//", 1)[-1].lower()).strip("_")
                path = os.path.join(args.out, f"{name}_{width}.png")
                page.screenshot(path=path, full_page=True)
                print(path)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
