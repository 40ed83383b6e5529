#!/usr/bin/env python3
"""Build the Allure HTML report with the real Allure CLI and check what a reader sees.

    python scripts/allure_check.py reports/allure-results [--report-dir reports/allure-report]

It runs ``allure generate``, serves the report on 127.0.0.1, opens it in headless
Chromium (driven over the DevTools protocol on a pipe; no extra Python package) and
checks, in the rendered page text:

* the gate result: its title ``benchgate gate: PASS|FAIL``, its message when it failed,
  its category, and its attachments (comparison table, plots);
* a failed item, if there is one: its failure message and category, and the text of its
  ``completion`` attachment once expanded by a click;
* the Categories page: every category a result falls in.

Needs the Allure CLI (``npm install -g allure-commandline``, Java 17) and Chromium
(``apt-get install -y chromium``). Exit status 0 when every check passes; the page text
seen is printed either way.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import http.server
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--remote-debugging-pipe",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--window-size=1400,2000",
)


def find_tools() -> tuple[str | None, str | None]:
    """Return the paths of the ``allure`` CLI and of Chromium (None where missing)."""
    chromium = next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)
    return shutil.which("allure"), chromium


def generate(results: Path, report: Path, allure: str = "allure") -> Path:
    """Run ``allure generate RESULTS -o REPORT --clean`` (raises CalledProcessError)."""
    subprocess.run(
        [allure, "generate", str(results), "-o", str(report), "--clean"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return report


def test_cases(report: Path) -> list[dict]:
    """The report's test cases (``data/test-cases/*.json``)."""
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((report / "data" / "test-cases").glob("*.json"))
    ]


@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port); yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # noqa: D102 - keep the output readable
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _high(fd: int) -> int:
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)  # never 3 or 4, not inherited
    os.close(fd)
    return new


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4)."""

    def __init__(self, chromium: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="allure-check-chromium-")
        to_chrome_r, to_chrome_w = (_high(fd) for fd in os.pipe())
        from_chrome_r, from_chrome_w = (_high(fd) for fd in os.pipe())

        def wire() -> None:  # in the child: chrome reads commands on 3, writes on 4
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            preexec_fn=wire,
            pass_fds=(3, 4),
            close_fds=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.out, self.inp = to_chrome_w, from_chrome_r
        self.buffer = b""
        self.next_id = 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one DevTools command and return its result (raises RuntimeError on error)."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"Chromium did not answer {method} within {self.timeout:g} s")
            ready, _, _ = select.select([self.inp], [], [], left)
            if ready:
                chunk = os.read(self.inp, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self.buffer += chunk

    def evaluate(self, expression: str):
        """Evaluate JavaScript in the page and return its value."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            self.session,
        )
        return result.get("result", {}).get("value")

    def open(self, url: str) -> None:
        """Navigate to ``url``."""
        self.call("Page.navigate", {"url": url}, self.session)

    def text(self) -> str:
        """The page's visible text (``document.body.innerText``)."""
        return self.evaluate("document.body ? document.body.innerText : ''") or ""

    def wait_for(self, *needles: str, timeout: float | None = None) -> str:
        """Wait until the page text contains every needle; return the text.

        Raises:
            AssertionError: a needle is still missing after ``timeout`` seconds (the
                message shows the missing needles and the page text).
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            text = self.text()
            missing = [n for n in needles if n not in text]
            if not missing:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not on the page: {missing}\n--- page text ---\n{text[:4000]}"
                )
            time.sleep(0.2)

    def click_text(self, label: str) -> bool:
        """Click the innermost element whose own text is exactly ``label``."""
        pick = f"e.children.length === 0 && e.textContent.trim() === {json.dumps(label)}"
        clickable = "[role=button],button,a,[class*=attachment],[class*=header]"
        return bool(
            self.evaluate(
                "(() => { const all = [...document.querySelectorAll('body *')]"
                f".filter(e => {pick});"
                " if (!all.length) return false; const e = all[0];"
                f" (e.closest('{clickable}') || e).click();"
                " return true; })()"
            )
        )

    def close(self) -> None:
        """Stop Chromium and remove its profile."""
        try:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.out, self.inp):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)


def check(results: Path, report: Path, allure: str, chromium: str) -> dict[str, str]:
    """Generate the report and check the gate result, a failed item and the categories.

    Returns:
        The page texts seen, by page (``gate``, ``item``, ``categories``).

    Raises:
        AssertionError: something a reader should see is missing (message shows the page).
    """
    generate(results, report, allure)
    cases = test_cases(report)
    gates = [c for c in cases if c["name"].startswith("benchgate gate: ")]
    assert gates, f"no 'benchgate gate' result in {results}"
    gate = gates[0]
    # Prefer a wrong answer: its message does not quote the completion.
    failed_items = sorted(
        (
            c
            for c in cases
            if c["status"] in ("failed", "broken")
            and not c["name"].startswith("benchgate gate")
            and any(a["name"] == "completion" for a in _attachments(c))
        ),
        key=lambda c: ("incorrect" not in (c.get("statusMessage") or ""), c["name"]),
    )
    seen: dict[str, str] = {}
    browser = Browser(chromium)
    try:
        with serve(report) as base:
            browser.open(f"{base}index.html#testresult/{gate['uid']}")
            needles = [gate["name"], "comparison table", "accuracy heatmap"]
            if gate["status"] == "failed":
                needles += ["gate failed: ", "Gate failed"]
            seen["gate"] = browser.wait_for(*needles)
            if failed_items:
                item = failed_items[0]
                completion = next(a for a in _attachments(item) if a["name"] == "completion")
                body = (
                    (report / "data" / "attachments" / completion["source"])
                    .read_text(encoding="utf-8")
                    .strip()
                )
                message = (item.get("statusMessage") or "").splitlines()[0]
                browser.open(f"{base}index.html#testresult/{item['uid']}")
                before = browser.wait_for(
                    item["name"], message, "prompt", "completion", "extracted answer", "reference"
                )
                snippet = body.splitlines()[0][:60] if body else ""
                # The attachment's text shows only once a reader expands it.
                assert not snippet or snippet not in before.replace(
                    message, ""
                ), f"completion text {snippet!r} visible before expanding the attachment"
                assert browser.click_text("completion"), "no 'completion' attachment to click"
                seen["item"] = browser.wait_for(snippet) if snippet else browser.text()
            browser.open(f"{base}index.html#categories")
            names = sorted({cat for c in cases for cat in _categories(c)})
            seen["categories"] = browser.wait_for(*names) if names else browser.text()
    finally:
        browser.close()
    return seen


def _attachments(case: dict) -> list[dict]:
    found = []
    for stage in ("beforeStages", "testStage", "afterStages"):
        stages = case.get(stage) or []
        for s in stages if isinstance(stages, list) else [stages]:
            found += s.get("attachments", [])
            for step in s.get("steps", []):
                found += step.get("attachments", [])
    return found


def _categories(case: dict) -> list[str]:
    return [c["name"] for c in (case.get("extra") or {}).get("categories", [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="the Allure results directory")
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=None,
        help="where to write the HTML report (default: beside the results)",
    )
    args = parser.parse_args(argv)
    allure, chromium = find_tools()
    if not allure or not chromium:
        print(
            "needs the Allure CLI (npm install -g allure-commandline) and Chromium "
            "(apt-get install -y chromium)",
            file=sys.stderr,
        )
        return 2
    report = args.report_dir or args.results.parent / "allure-report"
    try:
        seen = check(args.results, report, allure, chromium)
    except AssertionError as exc:
        print(f"allure check FAILED: {exc}", file=sys.stderr)
        return 1
    for page, text in seen.items():
        print(f"--- {page} ---\n{text[:1500]}\n")
    print(f"allure check passed: {report / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
