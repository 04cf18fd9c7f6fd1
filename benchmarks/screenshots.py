"""Screenshots of a rendered report: every HTML page of a ``sorlib report`` folder, as a person sees it.

    .venv/bin/python benchmarks/screenshots.py reports            # -> reports/screenshots/*.png

Headless Debian ``chromium`` driven by Playwright for Python (``playwright install`` cannot download
browsers here, so the system browser is launched through ``executable_path``). Each page is opened from
disk, given time for its figures to draw, checked for JavaScript errors, and captured at a 1,200 px width;
``--full`` captures the whole page instead of the first screen, ``--height`` sets the screen height.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", help="folder written by 'sorlib report'")
    ap.add_argument("--out", default=None, help="where to write the PNGs (default REPORT/screenshots)")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=1600)
    ap.add_argument("--full", action="store_true", help="capture the whole page")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Debian's chromium is needed: apt-get install -y chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    report = Path(args.report)
    pages = sorted(report.glob("*.html"))
    if not pages:
        print(f"{report}: no HTML pages (run 'sorlib report --out {report}' first)", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else report / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    bad = 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        for html in pages:
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto(html.resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(1500)  # plotly draws after load
            png = out / f"{html.stem}.png"
            page.screenshot(path=str(png), full_page=args.full)
            status = "ok" if not errors else f"{len(errors)} JS error(s): {errors[0][:120]}"
            bad += bool(errors)
            print(f"{png}  {status}")
            page.close()
        browser.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
