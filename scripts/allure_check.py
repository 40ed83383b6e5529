#!/usr/bin/env python3
"""Build the Allure HTML report with the real Allure CLI and check what a reader sees.

    python scripts/allure_check.py reports/allure-results [--report-dir DIR] [--shots DIR]

It runs ``allure generate``, serves the report on 127.0.0.1, opens it in headless
Chromium (driven over the DevTools protocol on a pipe; no extra Python package) and
checks, in the rendered pages:

* the Overview: the report is titled with the gate's verdict (``benchgate: gate FAIL``),
  and the Environment widget starts with it;
* the verdict's result (``gate PASS|FAIL|...`` in the ``gate`` suite): its headline, its
  category, its attachments (the HTML summary, the plots);
* a comparison (a regression when there is one): its message, the links to its flipped
  items, and that such a link opens the Behaviors group holding that item;
* a regressed item: its short message (outcome kind and extraction rule), its category,
  and, once the ``baseline vs candidate`` attachment is expanded, both completions side by
  side (read inside the attachment's sandboxed frame);
* the Categories page: every category a result falls in.

With ``--shots DIR`` it saves a 1400 x 1000 screenshot of each page checked (overview,
verdict, comparison, link target, regressed item, categories). Needs the Allure CLI
(``npm install -g allure-commandline@2``, Java 17), Chromium and ``fonts-noto-cjk``
(``apt-get install -y chromium fonts-noto-cjk``). Exit status 0 when every check passes;
the page text seen is printed either way.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import fcntl
import functools
import html
import http.server
import json
import os
import re
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
    "--window-size=1400,1000",
    # Allure shows HTML attachments in sandboxed frames; keep them in the page's process so
    # their text can be read (Page.getFrameTree + an isolated world).
    "--disable-features=IsolateSandboxedIframes",
    "--disable-site-isolation-trials",
)
#: The name of the side-by-side attachment of a flipped item (benchgate.reporting.allure_items).
PAIR_ATTACHMENT = "baseline vs candidate"


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

    def frame_texts(self) -> list[str]:
        """The visible text of every frame inside the page (attachments are frames)."""
        tree = self.call("Page.getFrameTree", {}, self.session)["frameTree"]
        texts = []
        stack = list(tree.get("childFrames", []))
        while stack:
            node = stack.pop()
            stack += node.get("childFrames", [])
            world = self.call("Page.createIsolatedWorld",
                              {"frameId": node["frame"]["id"], "worldName": "allure-check"},
                              self.session)["executionContextId"]
            result = self.call("Runtime.evaluate",
                               {"expression": "document.body ? document.body.innerText : ''",
                                "contextId": world, "returnByValue": True}, self.session)
            texts.append(result.get("result", {}).get("value") or "")
        return texts

    def wait_for_frame(self, *needles: str, timeout: float | None = None) -> str:
        """Wait until one frame's text contains every needle; return that text."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            texts = self.frame_texts()
            for text in texts:
                if all(n in text for n in needles):
                    return text
            if time.monotonic() > deadline:
                raise AssertionError(f"no frame shows {list(needles)}; frames: {texts}")
            time.sleep(0.2)

    def screenshot(self, path: Path, width: int = 1400, height: int = 1000) -> Path:
        """Save the viewport (``width`` x ``height`` CSS px) as a PNG."""
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  self.session)
        time.sleep(0.8)  # let charts finish their entry animation (text already checked)
        data = self.call("Page.captureScreenshot", {"format": "png"}, self.session)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

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


def labels(case: dict) -> dict[str, list[str]]:
    """A test case's labels, name -> values."""
    found: dict[str, list[str]] = {}
    for label in case.get("labels", []):
        found.setdefault(label["name"], []).append(label["value"])
    return found


def pick(cases: list[dict]) -> dict[str, dict | None]:
    """The results a reader opens: the verdict, a comparison, a regressed item."""
    gate = [c for c in cases if labels(c).get("parentSuite") == ["gate"]]
    verdict = next((c for c in gate if labels(c).get("suite") == ["verdict"]), None)
    comparisons = sorted((c for c in gate if labels(c).get("suite") == ["comparisons"]),
                         key=lambda c: (c["status"] != "failed", c["name"]))
    regressed = sorted(
        (c for c in cases
         if any(a["name"] == PAIR_ATTACHMENT for a in _attachments(c))
         and any(e.endswith(": regressed") for e in labels(c).get("epic", []))),
        key=lambda c: (not re.search(r"[^\x00-\x7f]", _pair_text(c, None)), c["name"]),
    )
    return {"verdict": verdict, "comparison": comparisons[0] if comparisons else None,
            "item": regressed[0] if regressed else None}


def _pair_text(case: dict, report: Path | None) -> str:
    if report is None:
        return case.get("_pair", "")
    pair = next(a for a in _attachments(case) if a["name"] == PAIR_ATTACHMENT)
    return (report / "data" / "attachments" / pair["source"]).read_text(encoding="utf-8")


def _completions(page: str) -> list[str]:
    """The completions of a side-by-side attachment (its ``<pre>`` blocks), unescaped."""
    return [html.unescape(m) for m in re.findall(r"<pre[^>]*>(.*?)</pre>", page, re.S)][:2]


def check(results: Path, report: Path, allure: str, chromium: str,
          shots: Path | None = None) -> dict[str, str]:
    """Generate the report and check the overview, verdict, comparison, item, categories.

    Args:
        results: the Allure results directory.
        report: where to generate the HTML report.
        allure: the Allure CLI.
        chromium: the Chromium binary.
        shots: a directory for screenshots of each page checked, or None.

    Returns:
        The page texts seen, by page (``overview``, ``verdict``, ``comparison``, ``link``,
        ``item``, ``item_pair``, ``categories``).

    Raises:
        AssertionError: something a reader should see is missing (message shows the page).
    """
    generate(results, report, allure)
    cases = test_cases(report)
    for case in cases:
        if any(a["name"] == PAIR_ATTACHMENT for a in _attachments(case)):
            case["_pair"] = _pair_text(case, report)
    chosen = pick(cases)
    verdict = chosen["verdict"]
    assert verdict is not None, f"no result in the 'gate' suite's 'verdict' in {results}"
    seen: dict[str, str] = {}
    browser = Browser(chromium)

    def shot(name: str) -> None:
        if shots is not None:
            browser.screenshot(shots / f"{name}.png")

    try:
        with serve(report) as base:
            browser.open(f"{base}index.html")
            word = verdict["name"].removeprefix("gate ")
            seen["overview"] = browser.wait_for(f"benchgate: gate {word}", "Environment",
                                                "gate.exit_status", "test cases")
            shot("overview")
            browser.open(f"{base}index.html#testresult/{verdict['uid']}")
            needles = [verdict["name"], "summary"]
            if verdict["status"] == "failed":
                needles += [verdict["statusMessage"].splitlines()[0][:60], "Gate failed"]
            seen["verdict"] = browser.wait_for(*needles)
            shot("verdict")
            comparison = chosen["comparison"]
            if comparison is not None:
                links = comparison.get("links") or []
                browser.open(f"{base}index.html#testresult/{comparison['uid']}")
                seen["comparison"] = browser.wait_for(
                    comparison["name"], "comparison and flipped items",
                    *[link["name"] for link in links[:3]])
                shot("comparison")
                item_links = [link for link in links if ": " in link["name"]
                              and not link["name"].startswith("all ")]
                if item_links:
                    link = item_links[0]
                    item_id = link["name"].split(": ", 1)[1]
                    browser.open(f"{base}index.html{link['url']}")
                    seen["link"] = browser.wait_for(item_id, comparison["name"].split(":")[0])
                    # The tree marks the linked group active after it renders: poll for it.
                    active = ("(() => { const e = document.querySelector('.node__title_active');"
                              " return e ? e.innerText : ''; })()")
                    deadline = time.monotonic() + browser.timeout
                    selected = browser.evaluate(active) or ""
                    while item_id not in selected and time.monotonic() < deadline:
                        time.sleep(0.2)
                        selected = browser.evaluate(active) or ""
                    assert item_id in selected, (
                        f"link {link['url']} selects {selected!r}, not the group of {item_id}")
                    shot("link")
            item = chosen["item"]
            if item is not None:
                first, second = (c.strip().splitlines()[0][:60] if c.strip() else ""
                                 for c in _completions(item["_pair"]))
                message = (item.get("statusMessage") or "").splitlines()[0]
                browser.open(f"{base}index.html#testresult/{item['uid']}")
                seen["item"] = browser.wait_for(item["name"], message, PAIR_ATTACHMENT,
                                                "prompt", "completion")
                assert browser.click_text(PAIR_ATTACHMENT), f"no '{PAIR_ATTACHMENT}' to click"
                seen["item_pair"] = browser.wait_for_frame(
                    "baseline", "candidate", *[t for t in (first, second) if t])
                shot("regressed-item")
            browser.open(f"{base}index.html#categories")
            names = sorted({cat for c in cases for cat in _categories(c)})
            seen["categories"] = browser.wait_for(*names) if names else browser.text()
            shot("categories")
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
    parser.add_argument("--shots", type=Path, default=None,
                        help="save a screenshot of each page checked into this directory")
    args = parser.parse_args(argv)
    allure, chromium = find_tools()
    if not allure or not chromium:
        print(
            "needs the Allure CLI (npm install -g allure-commandline@2) and Chromium "
            "(apt-get install -y chromium fonts-noto-cjk)",
            file=sys.stderr,
        )
        return 2
    report = args.report_dir or args.results.parent / "allure-report"
    try:
        seen = check(args.results, report, allure, chromium, args.shots)
    except AssertionError as exc:
        print(f"allure check FAILED: {exc}", file=sys.stderr)
        return 1
    for page, text in seen.items():
        print(f"--- {page} ---\n{text[:1500]}\n")
    print(f"allure check passed: {report / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
