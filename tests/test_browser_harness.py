"""The browser harness (tests/browser.py) against real pages: a file read from disk, and a page served over HTTP
that updates itself by polling, as `dro serve`'s will."""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from browser import Browser, BrowserError, artifacts_dir, living_processes

pytestmark = pytest.mark.browser  # skipped without Chromium, unless $CI is set (tests/browser.py)

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Harness</title>
<style>
  body { margin: 0; font: 14px sans-serif; }
  #go { position: absolute; left: 40px; top: 40px; width: 120px; height: 30px; }
  #cover { position: absolute; left: 300px; top: 40px; width: 120px; height: 30px; }
  #veil { position: absolute; left: 280px; top: 20px; width: 200px; height: 80px; background: #8888; }
  #far { position: absolute; left: 40px; top: 2400px; }
  #hidden { display: none; }
</style></head>
<body>
  <ul id="items"><li data-n="1">one</li><li data-n="2">two</li><li data-n="3">three</li></ul>
  <button id="go">Go</button>
  <button id="cover">Covered</button><div id="veil"></div>
  <button id="far">Far below</button>
  <button id="hidden">Hidden</button>
  <p id="out">waiting</p>
  <script>
    window.clicks = [];
    for (const button of document.querySelectorAll("button")) {
      button.addEventListener("click", event => {
        window.clicks.push({id: button.id, trusted: event.isTrusted, x: event.clientX, y: event.clientY});
        document.querySelector("#out").textContent = "clicked " + button.id;
      });
    }
  </script>
</body></html>
"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    with Browser(log=tmp_path / "chromium.log") as opened:
        yield opened


@pytest.fixture
def page(tmp_path: Path) -> str:
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    return path.as_uri()


def test_evaluate_returns_dom_values_and_awaits_promises(browser: Browser, page: str) -> None:
    browser.open(page)
    assert browser.evaluate("document.title") == "Harness"
    assert browser.evaluate("[...document.querySelectorAll('#items li')].map(li => li.textContent)") == \
        ["one", "two", "three"]
    assert browser.evaluate("({n: Number(document.querySelector('li[data-n=\"2\"]').dataset.n), ok: true})") == \
        {"n": 2, "ok": True}
    assert browser.evaluate("undefined") is None
    assert browser.evaluate("new Promise(done => setTimeout(() => done(innerWidth), 20))") == 1400
    assert browser.console_errors == [] and browser.exceptions == []
    assert browser.version.startswith(("Chrome/", "HeadlessChrome/"))


def test_a_script_that_throws_raises_with_its_message(browser: Browser, page: str) -> None:
    browser.open(page)
    with pytest.raises(BrowserError, match="ReferenceError: nope is not defined"):
        browser.evaluate("nope()")
    with pytest.raises(BrowserError, match="Error: refused"):
        browser.evaluate("Promise.reject(new Error('refused'))")
    assert browser.exceptions == []  # what evaluate raises is not also counted as the page's own


def test_click_is_a_trusted_mouse_click_at_the_centre(browser: Browser, page: str) -> None:
    browser.open(page)
    browser.click("#go")
    assert browser.wait_for("document.querySelector('#out').textContent === 'clicked go'")
    assert browser.evaluate("window.clicks") == [{"id": "go", "trusted": True, "x": 100, "y": 55}]
    browser.click("#far")  # scrolled into view first
    assert browser.wait_for("document.querySelector('#out').textContent") == "clicked far"
    assert browser.evaluate("scrollY") > 0


@pytest.mark.parametrize(("selector", "problem"), [
    ("#nowhere", "no element matches it"),
    ("#hidden", "it has no size"),
    ("#cover", 'another element covers its centre: <div id="veil">'),
])
def test_click_says_why_it_cannot(browser: Browser, page: str, selector: str, problem: str) -> None:
    browser.open(page)
    with pytest.raises(BrowserError, match=f"cannot click '{selector}': {problem}"):
        browser.click(selector)
    assert browser.evaluate("window.clicks") == []


def test_wait_for_times_out_with_the_last_value(browser: Browser, page: str) -> None:
    browser.open(page)
    with pytest.raises(BrowserError, match=r"timed out after 0.3s waiting for .*#out.* \(it is False\)"):
        browser.wait_for("document.querySelector('#out').textContent === 'never'", timeout=0.3)


def test_console_errors_and_uncaught_exceptions_are_collected(browser: Browser, tmp_path: Path) -> None:
    (tmp_path / "noisy.html").write_text("""<!doctype html><title>Noisy</title>
        <img src="missing.png">
        <button id="bad" style="width: 80px; height: 30px">Bad</button>
        <script>
          console.log("fine");
          console.warn("only a warning");
          console.error("boom", 42, {a: 1});
          document.querySelector("#bad").addEventListener("click", () => { throw new TypeError("kaput"); });
          throw new RangeError("at load");
        </script>""")
    browser.open((tmp_path / "noisy.html").as_uri())
    browser.click("#bad")
    browser.evaluate("1")  # a round trip: what the page reported before it has been read
    assert len(browser.console_errors) == 2  # in either order: the image may fail before or after the script runs
    assert "boom 42 Object" in browser.console_errors
    (failed_load,) = [error for error in browser.console_errors if error != "boom 42 Object"]
    assert failed_load.startswith("Failed to load resource: net::ERR_FILE_NOT_FOUND (file://")
    assert failed_load.endswith("/missing.png)")
    assert [error.split("\n")[0] for error in browser.exceptions] == [
        "RangeError: at load", "TypeError: kaput"]
    assert "noisy.html" in browser.exceptions[0]


def test_screenshot_is_a_png_of_the_whole_page(browser: Browser, page: str) -> None:
    browser.open(page)
    path = browser.screenshot(artifacts_dir() / "harness.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk comes first
    assert width >= 1385 and height >= 2400  # beyond the 900 pixels of the window


def test_open_reports_a_page_that_cannot_load(browser: Browser, tmp_path: Path) -> None:
    with pytest.raises(BrowserError, match=r"could not open .*missing.html: net::ERR_FILE_NOT_FOUND"):
        browser.open((tmp_path / "missing.html").as_uri())


def test_closing_kills_chromium_and_its_children(tmp_path: Path) -> None:
    with Browser(log=tmp_path / "chromium.log") as browser:
        browser.open("about:blank")
        pid = browser.pid
        assert pid is not None
        assert len(living_processes(pid)) > 2  # the browser, its zygotes, renderers, GPU and network processes
    assert living_processes(pid) == []


def test_a_browser_that_dies_during_a_call_is_a_clear_error(tmp_path: Path) -> None:
    with Browser(log=tmp_path / "chromium.log") as browser:
        assert browser.pid is not None
        killer = threading.Timer(0.3, os.killpg, (browser.pid, 9))
        killer.start()
        with pytest.raises(BrowserError, match=r"^Chromium ended \(exit status -9\) while waiting for the reply to "
                                               r"Runtime.evaluate"):
            browser.evaluate("new Promise(() => {})")  # never settles: only Chromium's end ends the wait
        killer.join()
    assert living_processes(browser.pid) == []


def test_a_call_to_a_dead_browser_is_a_clear_error(tmp_path: Path) -> None:
    with Browser(log=tmp_path / "chromium.log") as browser:
        assert browser.pid is not None
        os.killpg(browser.pid, 9)
        deadline = time.monotonic() + 10
        while living_processes(browser.pid) and time.monotonic() < deadline:
            time.sleep(0.01)  # until no process is left to read the pipe
        with pytest.raises(BrowserError, match=r"^Chromium ended \(exit status -9\) before it could be sent "
                                               r"Runtime.evaluate \(Broken pipe\)"):
            browser.evaluate("1")
    assert living_processes(browser.pid) == []


# ---- a page served over HTTP that polls its server ----------------------------------------------------------------

POLLING_PAGE = """<!doctype html><meta charset="utf-8"><title>Polling</title><link rel="icon" href="data:,">
<p>count: <span id="count">-</span></p>
<script>
  async function poll() {
    const reply = await fetch("/data", {cache: "no-store"});
    document.querySelector("#count").textContent = (await reply.json()).count;
    setTimeout(poll, 50);
  }
  poll();
</script>"""


class Server:
    """A real HTTP server on 127.0.0.1 serving POLLING_PAGE at / and `data` as JSON at /data."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {"count": 1}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/":
                    self.reply("text/html; charset=utf-8", POLLING_PAGE.encode())
                elif self.path == "/data":
                    self.reply("application/json", json.dumps(server.data).encode())
                else:
                    self.send_error(404)

            def reply(self, kind: str, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    running.thread.start()
    yield running
    running.http.shutdown()
    running.http.server_close()
    running.thread.join(timeout=10)


def test_a_served_page_that_polls_shows_the_servers_changes(browser: Browser, server: Server) -> None:
    browser.open(server.url)
    assert browser.wait_for("document.querySelector('#count').textContent === '1'")
    server.data = {"count": 2}
    assert browser.wait_for("document.querySelector('#count').textContent === '2'", timeout=5)
    assert browser.console_errors == [] and browser.exceptions == []


def test_open_reports_a_server_that_is_not_there(browser: Browser) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # nothing listens on it once closed
    with pytest.raises(BrowserError, match="net::ERR_CONNECTION_REFUSED"):
        browser.open(f"http://127.0.0.1:{port}/")
