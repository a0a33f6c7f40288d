from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server import LaminaProcess

CHROMIUM = "/usr/bin/chromium"


def console_api(server: LaminaProcess, path: str, body: Any = None, method: str | None = None) -> tuple[int, Any]:
    """One call to the console's JSON API, as the page makes it: (HTTP status, decoded JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{server.url}/console/api/{path}",
        data=data,
        method=method or ("POST" if data is not None else "GET"),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (no browser download); skipped when it is not installed.

    Module scope, not session: Playwright's sync API keeps an asyncio loop running in this thread while it is
    open, and later tests that call asyncio.run() must not find it."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium); scripts/test installs it")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with playwright_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, lamina: LaminaProcess) -> Iterator[Any]:
    """A fresh page at 1280x800 that records every JavaScript error and failed request; the test fails on any."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=lamina.url)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def console_message(msg: Any) -> None:
        # Chromium logs every 4xx answer as "Failed to load resource"; the API's 4xx errors are expected
        # answers the page shows. Server errors are caught below, by status.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(f"console {msg.type}: {msg.text}")

    def failed(request: Any) -> None:
        # a request cut off by the test moving to the next page is not a failure of the page
        if "ERR_ABORTED" not in (request.failure or ""):
            problems.append(f"request failed: {request.url} ({request.failure})")

    tab.on("console", console_message)
    # no network access from the page: everything it loads or calls is on the Lamina port
    tab.on("request", lambda r: None if r.url.startswith(lamina.url) else problems.append(f"off-site: {r.url}"))
    tab.on("requestfailed", failed)
    tab.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 500 else None)
    tab.problems = problems
    try:
        yield tab
    finally:
        context.close()
