"""Regenerates the README's console screenshots (docs/console/*.png) from a fresh Lamina with a few functions.

.venv/bin/python scripts/console_screenshots.py [--out DIR]     # needs /usr/bin/chromium

tests/console/test_screenshots.py runs it into a temporary folder, so a change that breaks a page breaks this too.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright
from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

OUT = Path(__file__).resolve().parent.parent / "docs" / "console"
SOURCE = (
    "def handler(event, context):\n"
    '    print("order", event.get("order"))\n'
    '    if event.get("order") == 103:\n'
    '        raise ValueError("order 103 is out of stock")\n'
    '    return {"ok": True, "order": event.get("order")}\n'
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=OUT)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server = LaminaProcess(Path(folder)).start()
        try:
            client = server.client()
            for name in ("orders-api", "image-resizer", "queue-worker", "billing-report"):
                client.create_function(
                    FunctionName=name,
                    Runtime="python3.12",
                    Role=ROLE,
                    Handler="app.handler",
                    Code={"ZipFile": make_zip({"app.py": SOURCE})},
                    MemorySize=256 if name == "image-resizer" else 128,
                )
            client.get_waiter("function_active_v2").wait(FunctionName="orders-api")
            for i in range(4):
                client.invoke(FunctionName="orders-api", Payload=json.dumps({"order": 100 + i}))
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                # the last hour's columns come from CloudWatch, whose points are flushed every second
                for _ in range(20):
                    page.goto(server.url + "/console/")
                    row = page.locator("tr", has=page.get_by_role("link", name="orders-api", exact=True))
                    row.get_by_test_id("invocations-1h").wait_for()
                    if row.get_by_test_id("invocations-1h").inner_text() == "4":
                        break
                    page.wait_for_timeout(500)
                page.screenshot(path=str(out / "list.png"))
                page.goto(server.url + "/console/functions/orders-api/test")
                page.get_by_test_id("test-event-input").fill('{"order": 42}')
                page.get_by_test_id("test-run").click()
                page.get_by_test_id("test-status").wait_for()
                page.screenshot(path=str(out / "function-test.png"), full_page=True)
                page.goto(server.url + "/console/functions/orders-api/monitoring")
                page.get_by_test_id("log-lines").filter(has_text="order").wait_for()
                page.get_by_test_id("chart-summary").filter(has_text="5 in range").wait_for()
                page.screenshot(path=str(out / "monitoring.png"), full_page=True)
                page.goto(server.url + "/console/functions/orders-api/cost")
                page.get_by_test_id("cost-requests").filter(has_text="5").wait_for()
                page.get_by_test_id("tune-memory").fill("128,256,512,1024")
                page.get_by_test_id("tune-invocations").fill("3")
                page.get_by_test_id("tune-start").click()
                page.frame_locator("[data-testid=tune-chart]").locator("svg#chart").wait_for(timeout=120_000)
                page.screenshot(path=str(out / "cost.png"), full_page=True)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
