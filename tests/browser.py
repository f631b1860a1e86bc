"""A headless Chromium for the tests, driven over the DevTools protocol with nothing but the standard library.

Chromium starts with --remote-debugging-pipe: it reads protocol commands on its file descriptor 3 and writes
replies and events on 4, each message a JSON object ended by a NUL byte. A thread reads what the browser sends;
every call waits for its own reply with a timeout, so a hung browser fails a test instead of hanging it.

    with Browser() as page:
        page.open(path.as_uri())
        page.click("#go")
        page.wait_for("document.querySelector('#out').textContent === 'done'")
        page.screenshot(artifacts_dir() / "go.png")
        assert page.console_errors == [] and page.exceptions == []

Chromium is $DRO_CHROMIUM, else the first of chromium, chromium-browser, google-chrome on the PATH. Without one
the browser tests skip, with one line saying how to install it; where $CI is set (CI services set it; .ci/run
does) a missing browser fails them instead, so that CI never passes without them. DRO_SKIP_BROWSER=1 skips
them anywhere.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,900", "--remote-debugging-pipe",
)
INSTALL = "apt-get install chromium, or point DRO_CHROMIUM at a Chromium or Chrome"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

T = TypeVar("T")


class BrowserError(Exception):
    """The browser could not do what a test asked, or a script in the page threw."""


def find_chromium() -> str | None:
    """The browser to run: $DRO_CHROMIUM (a name on the PATH or a path), else the first known name on the PATH."""
    if configured := os.environ.get("DRO_CHROMIUM"):
        return shutil.which(configured)
    return next((found for name in NAMES if (found := shutil.which(name))), None)


def chromium_or_fail() -> str:
    """The browser to run. Without one, skips the calling test, or fails it where $CI is set; skips it with
    DRO_SKIP_BROWSER=1."""
    if os.environ.get("DRO_SKIP_BROWSER") == "1":
        pytest.skip("DRO_SKIP_BROWSER=1: browser tests skipped")
    if found := find_chromium():
        return found
    if in_ci():
        pytest.fail(f"{_missing()}, and CI={os.environ['CI']} requires the browser tests: {INSTALL}", pytrace=False)
    pytest.skip(skip_reason())


def skip_reason() -> str:
    """Why the browser tests skip here, and how to run them, in one line."""
    if os.environ.get("DRO_SKIP_BROWSER") == "1":
        return "DRO_SKIP_BROWSER=1: browser tests skipped"
    return f"{_missing()}: {INSTALL} to run the browser tests"


def _missing() -> str:
    if os.environ.get("DRO_CHROMIUM"):
        return f"DRO_CHROMIUM={os.environ['DRO_CHROMIUM']} is not a browser"
    return f"no Chromium ({', '.join(NAMES)}) on the PATH"


def in_ci() -> bool:
    """$CI set to anything but "", "0" or "false" (GitHub Actions, GitLab and most CI services set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def artifacts_dir() -> Path:
    """Where tests keep screenshots: $DRO_ARTIFACTS, else tests/artifacts/."""
    path = Path(os.environ.get("DRO_ARTIFACTS") or ARTIFACTS)
    path.mkdir(parents=True, exist_ok=True)
    return path


class Browser:
    """One headless Chromium with one page; a context manager that always kills the browser on the way out."""

    def __init__(self, executable: str | None = None, *, log: Path | None = None, timeout: float = 10.0) -> None:
        self.executable = executable or chromium_or_fail()
        self.timeout = timeout
        self.log = log  # Chromium's stderr; a temporary file, kept, when None
        self.version = ""
        self.console_errors: list[str] = []  # console.error() calls, and errors the browser logged (a failed load)
        self.exceptions: list[str] = []  # exceptions no script caught
        self._process: subprocess.Popen[bytes] | None = None
        self._profile: str | None = None
        self._to_browser = self._from_browser = -1
        self._reader: threading.Thread | None = None
        self._changed = threading.Condition()
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: list[dict[str, Any]] = []
        self._ended = False
        self._ids = itertools.count(1)
        self._session: str | None = None

    # ---- the process ---------------------------------------------------------------------------------------------

    def __enter__(self) -> Browser:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def start(self) -> None:
        self._profile = tempfile.mkdtemp(prefix="dro-chromium-")
        if self.log is None:
            handle, name = tempfile.mkstemp(prefix="dro-chromium-", suffix=".log")
            os.close(handle)
            self.log = Path(name)
        to_read, self._to_browser = os.pipe()
        self._from_browser, from_write = os.pipe()
        # Popen puts the pipes on the child's 0 and 1, safely whatever their numbers here; the shell moves them to
        # the 3 and 4 Chromium wants, and gives Chromium /dev/null and the log for its own stdin and stdout.
        command = ["sh", "-c", 'exec "$@" 3<&0 4>&1 </dev/null >&2', "sh",
                   self.executable, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"]
        with open(self.log, "wb") as log:
            self._process = subprocess.Popen(command, stdin=to_read, stdout=from_write, stderr=log,
                                             start_new_session=True)
        os.close(to_read)
        os.close(from_write)
        self._reader = threading.Thread(target=self._read, name="chromium-devtools", daemon=True)
        self._reader.start()
        self.version = self.send("Browser.getVersion", timeout=max(self.timeout, 30))["product"]
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=self._session)

    def close(self) -> None:
        """Ask Chromium to quit, then kill whatever is left of it (its processes share its process group)."""
        if self._process is not None:
            if self._process.poll() is None and not self._ended:
                with contextlib.suppress(BrowserError, subprocess.TimeoutExpired):
                    self.send("Browser.close", timeout=5)
                    self._process.wait(timeout=5)
            _kill_group(self._process.pid)
            self._process.wait(timeout=30)
        if self._reader is not None:
            self._reader.join(timeout=30)
        for fd in (self._to_browser, self._from_browser):
            if fd >= 0:
                os.close(fd)
        self._to_browser = self._from_browser = -1
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    # ---- the protocol --------------------------------------------------------------------------------------------

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        """Call a protocol method (on the browser, or on a page's session) and return its result."""
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._to_browser, data):]
        except OSError as error:  # a broken pipe: Chromium is gone
            raise BrowserError(f"Chromium ended (exit status {_exit_status(self._process)}) before it could be sent "
                               f"{method} ({error.strerror}){self._log_tail()}") from None
        reply = self._wait(lambda: self._replies.pop(number, None), timeout, f"the reply to {method}")
        if "error" in reply:
            error = reply["error"]
            raise BrowserError(f"{method} failed: {error.get('message')} {error.get('data', '')}".rstrip())
        result: dict[str, Any] = reply.get("result", {})
        return result

    def _read(self) -> None:
        """The reader thread: split what Chromium writes into messages, until it closes its end."""
        partial: list[bytes] = []
        try:
            while chunk := os.read(self._from_browser, 1 << 20):
                *complete, rest = chunk.split(b"\0")
                for piece in complete:
                    self._receive(json.loads(b"".join([*partial, piece])))
                    partial = []
                if rest:
                    partial.append(rest)
        except (OSError, ValueError):
            pass  # the browser died mid-message: waiters learn it below
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()

    def _receive(self, message: dict[str, Any]) -> None:
        with self._changed:
            if "id" in message:
                self._replies[message["id"]] = message
            else:
                self._events.append(message)
                self._note_errors(message["method"], message.get("params", {}))
            self._changed.notify_all()

    def _note_errors(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.console_errors.append(" ".join(_describe(arg) for arg in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            self.exceptions.append(_exception_text(params["exceptionDetails"]))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(f"{entry.get('text', '')} ({entry['url']})" if entry.get("url")
                                       else entry.get("text", ""))

    def _wait(self, found: Callable[[], T | None], timeout: float | None, what: str) -> T:
        """Wait for `found()` to give something other than None; raise after the timeout or if Chromium ended."""
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        with self._changed:
            while (value := found()) is None:
                if self._ended:
                    code = _exit_status(self._process)
                    raise BrowserError(f"Chromium ended (exit status {code}) while waiting for {what}"
                                       f"{self._log_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError(f"timed out after {seconds:g}s waiting for {what}{self._log_tail()}")
                self._changed.wait(left)
            return value

    def _wait_event(self, method: str, since: int, timeout: float | None) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((event for event in self._events[since:]
                         if event["method"] == method and event.get("sessionId") == self._session), None)

        return self._wait(found, timeout, f"the event {method}")

    def _log_tail(self, lines: int = 15) -> str:
        """The end of Chromium's log, without its complaints that there is no D-Bus (there never is in CI)."""
        if not self.log or not self.log.exists():
            return ""
        tail = [line for line in self.log.read_text(errors="replace").splitlines() if ":ERROR:dbus/" not in line]
        if not tail:
            return f" (its log {self.log} says nothing but D-Bus complaints)"
        return f"\nChromium's log {self.log} ends:\n  " + "\n  ".join(tail[-lines:])

    # ---- the page ------------------------------------------------------------------------------------------------

    def _page(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = None) -> dict[str, Any]:
        return self.send(method, params, session=self._session, timeout=timeout)

    def open(self, url: str, timeout: float | None = None) -> None:
        """Load a file:// or http:// page and wait for its load event."""
        with self._changed:
            since = len(self._events)
        result = self._page("Page.navigate", {"url": url}, timeout)
        if result.get("errorText"):
            raise BrowserError(f"could not open {url}: {result['errorText']}")
        self._wait_event("Page.loadEventFired", since, timeout)

    def evaluate(self, script: str, timeout: float | None = None) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited); raise if it throws."""
        result = self._page("Runtime.evaluate", {"expression": script, "returnByValue": True, "awaitPromise": True},
                            timeout)
        if "exceptionDetails" in result:
            raise BrowserError(f"the script threw {_exception_text(result['exceptionDetails'])}\n  script: {script}")
        return result["result"].get("value")

    def wait_for(self, script: str, timeout: float | None = None) -> Any:
        """Evaluate `script` every 50 ms until its value is truthy, and return that value."""
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        while not (value := self.evaluate(script)):
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out after {seconds:g}s waiting for {script} (it is {value!r})")
            time.sleep(0.05)
        return value

    def click(self, selector: str) -> None:
        """Click the centre of the first element `selector` matches with the mouse, as a person would."""
        where = self.evaluate(f"""(() => {{
            const element = document.querySelector({json.dumps(selector)});
            if (!element) return {{problem: "no element matches it"}};
            element.scrollIntoView({{block: "center", inline: "center", behavior: "instant"}});
            const box = element.getBoundingClientRect();
            if (box.width === 0 || box.height === 0) return {{problem: "it has no size (hidden?)"}};
            const x = box.left + box.width / 2, y = box.top + box.height / 2;
            const hit = document.elementFromPoint(x, y);
            if (hit !== element && !element.contains(hit)) {{
                const name = hit ? hit.outerHTML.slice(0, 120) : "nothing (off the page)";
                return {{problem: `another element covers its centre: ${{name}}`}};
            }}
            return {{x, y}};
        }})()""")
        if "problem" in where:
            raise BrowserError(f"cannot click {selector!r}: {where['problem']}")
        point = {"x": where["x"], "y": where["y"]}
        self._page("Input.dispatchMouseEvent", {"type": "mouseMoved", **point})
        self._page("Input.dispatchMouseEvent",
                   {"type": "mousePressed", "button": "left", "buttons": 1, "clickCount": 1, **point})
        self._page("Input.dispatchMouseEvent",
                   {"type": "mouseReleased", "button": "left", "buttons": 0, "clickCount": 1, **point})

    def screenshot(self, path: Path, timeout: float | None = None) -> Path:
        """Save a PNG of the whole page, beyond the window if it scrolls."""
        size = self._page("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self._page("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip},
                          max(timeout or self.timeout, 30))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


def _kill_group(leader: int, timeout: float = 10.0) -> None:
    """SIGKILL a process group, and wait until none of its processes is alive (init reaps the dead ones)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while living_processes(leader) and time.monotonic() < deadline:
        time.sleep(0.01)


def living_processes(group: int) -> list[int]:
    """The processes of a process group that have not ended. A process whose threads are all dead is not counted,
    though its parent may not have collected it yet; one whose main thread is dead but another not is (it still
    holds its files, the DevTools pipe among them)."""
    living = []
    for process in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, ValueError):
            if _stat(process / "stat")[2] == group and any(
                    _stat(task)[0] not in ("Z", "X") for task in process.glob("task/*/stat")):
                living.append(int(process.name))
    return living


def _stat(path: Path) -> tuple[str, int, int]:
    """A process's or a thread's state, parent and process group, from /proc (the name before them may hold
    spaces and parentheses)."""
    state, parent, group = path.read_text().rpartition(")")[2].split()[:3]
    return state, int(parent), int(group)


def _exit_status(process: subprocess.Popen[bytes] | None) -> int | None:
    """How Chromium ended: its pipe can close a moment before the process can be waited for."""
    if process is None:
        return None
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=2)
    return process.returncode


def _describe(value: dict[str, Any]) -> str:
    """A console argument (a protocol RemoteObject) as text."""
    if "value" in value:
        return value["value"] if isinstance(value["value"], str) else json.dumps(value["value"])
    return str(value.get("description") or value.get("unserializableValue") or value.get("type"))


def _exception_text(details: dict[str, Any]) -> str:
    text = details.get("exception", {}).get("description") or details.get("text", "an exception")
    if details.get("url"):
        text += f" ({details['url']}:{details.get('lineNumber', 0) + 1})"
    return str(text)
