#!/usr/bin/env python3
"""Screenshots of a benchgate Allure report, as a reader sees it in headless Chromium.

    python scripts/allure_screenshots.py reports/allure-results --out reports/screenshots

Builds the HTML report with the real Allure CLI, checks every page a reader opens (see
``scripts/allure_check.py``: a page that does not show what it must fails the run instead
of being photographed) and saves a 1400 x 1000 PNG of each:

* ``overview.png``: the Overview page, titled with the gate's verdict; the Environment
  widget starts with it and the Suites widget has the ``gate`` suite;
* ``verdict.png``: the gate's own result (its status is the verdict; summary and plots
  attached);
* ``comparison.png``: a comparison (a regression when there is one) with the links to its
  flipped items;
* ``link.png``: where the first of those links leads (the item's Behaviors group);
* ``regressed-item.png``: a regressed item with the baseline's and the candidate's answers
  side by side (a CJK one when there is one, to show the fonts);
* ``categories.png``: the Categories page.

Needs the Allure CLI (``npm install -g allure-commandline@2``, Java 17), Chromium and
``fonts-noto-cjk``. Exit status 0 when every page was checked and saved.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _check_module():
    spec = importlib.util.spec_from_file_location("allure_check", HERE / "allure_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="the Allure results directory")
    parser.add_argument("--out", type=Path, required=True, help="where to write the PNGs")
    parser.add_argument("--report-dir", type=Path, default=None,
                        help="where to write the HTML report (default: OUT/allure-report)")
    args = parser.parse_args(argv)
    check = _check_module()
    allure, chromium = check.find_tools()
    if not allure or not chromium:
        print("needs the Allure CLI (npm install -g allure-commandline@2) and Chromium "
              "(apt-get install -y chromium fonts-noto-cjk)", file=sys.stderr)
        return 2
    report = args.report_dir or args.out / "allure-report"
    try:
        check.check(args.results, report, allure, chromium, shots=args.out)
    except AssertionError as exc:
        print(f"allure screenshots FAILED: {exc}", file=sys.stderr)
        return 1
    for path in sorted(args.out.glob("*.png")):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
