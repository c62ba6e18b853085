"""Remake docs/images/dns-race-report.png: the HTML report of specs/dynamodb_dns_race.yaml
in headless Chromium, its first counterexample (no_empty_record) in view.

    python docs/screenshot.py [OUT.png]

Needs `chromium` and `chromedriver` on PATH (Debian: apt install chromium chromium-driver)
and selenium (the `test` extra).  tests/test_html_report.py drives the browser the same way
(`browser()`, `open_report()`)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dnsrace import api
from dnsrace.report.formats import ReportOptions, render
from tests.html_browser import browser, open_report, press

SPEC = ROOT / "specs" / "dynamodb_dns_race.yaml"
OUT = ROOT / "docs" / "images" / "dns-race-report.png"


def main(out: Path = OUT) -> None:
    result = api.check(SPEC.relative_to(ROOT) if Path.cwd() == ROOT else SPEC)
    page = render("html", [result], ReportOptions(timing=False))
    with tempfile.TemporaryDirectory() as tmp, browser(1400, 900) as driver:
        open_report(driver, Path(tmp), page)
        trace = driver.find_element("css selector", "section.trace")
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", trace)
        press(driver, "j", 9)   # the current row: the stale write of step 9
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(driver.get_screenshot_as_png())
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
