"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: no
port, no network): open a page at a given viewport width, and report every request it made, every
console error and uncaught exception, and the pairs of elements whose boxes overlap."""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium")

# Boxes are read per line fragment (getClientRects), so an inline element that wraps is the lines it
# covers, not their bounding box. An element and its ancestors always overlap and are not compared;
# inside an SVG only text is compared (a value may sit on its bar); inside a <pre> only the <pre>.
OVERLAPS = r"""
(() => {
  const boxes = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("pre") && el.tagName !== "PRE") continue;
    const inSvg = el.closest("svg");
    if (inSvg && el.tagName !== "text") continue;
    const frames = ["SCRIPT", "STYLE", "TBODY", "THEAD", "TR", "TABLE", "UL"];
    if (!inSvg && frames.includes(el.tagName)) continue;
    if (el.tagName === "svg") continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") continue;
    for (const r of el.getClientRects()) {
      if (r.width > 0.5 && r.height > 0.5) boxes.push([el, r]);
    }
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className
      ? "." + el.className.split(" ").join(".") : "") +
    " '" + (el.textContent || "").trim().slice(0, 40) + "'";
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i], [b, rb] = boxes[j];
      if (a === b || a.contains(b) || b.contains(a)) continue;
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 1 && h > 1) found.push(name(a) + " overlaps " + name(b));
    }
  }
  const wide = document.documentElement.scrollWidth > window.innerWidth + 1;
  return {overlaps: found.slice(0, 20), count: found.length, boxes: boxes.length,
          scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          wide: wide};
})()
"""


@dataclass
class PageReport:
    width: int
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, error log entries
    layout: dict[str, Any] = field(default_factory=dict)  # what OVERLAPS found
    then: Any = None  # what the ``then`` expression returned


class Chromium:
    def __init__(self, profile: Path):
        assert CHROMIUM is not None
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire() -> None:  # the protocol's pipe is fd 3 (Chromium reads) and fd 4 (it writes)
            high_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-extensions",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)

    def send(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 30,
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_chrome], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str, width: int, height: int = 900, then: str = "") -> PageReport:
        """Load ``url`` at ``width`` CSS pixels and report what it did; ``then`` is a script run
        after the layout check (its promise awaited), as a person's clicks would be."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
            session=session,
        )
        self.send("Emulation.setFocusEmulationEnabled", {"enabled": True}, session=session)
        self.send(
            "Browser.grantPermissions",
            {"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
        )
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # late console messages and requests, if any
        result = self.send(
            "Runtime.evaluate", {"expression": OVERLAPS, "returnByValue": True}, session=session
        )
        report = PageReport(width, layout=result["result"]["value"])
        if then:
            done = self.send(
                "Runtime.evaluate",
                {"expression": then, "awaitPromise": True, "returnByValue": True},
                session=session,
            )
            report.then = done["result"].get("value")
            time.sleep(0.2)
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if event.get("sessionId") not in (None, session):
                continue
            if method == "Network.requestWillBeSent":
                report.requests.append(params["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in (
                "error",
                "assert",
                "warning",
            ):
                report.errors.append(
                    " ".join(
                        str(arg.get("value", arg.get("description", "")))
                        for arg in params.get("args", [])
                    )
                )
            elif method == "Runtime.exceptionThrown":
                report.errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                report.errors.append(params["entry"].get("text", ""))
        self.send("Target.closeTarget", {"targetId": target})
        return report
