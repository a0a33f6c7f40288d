"""Regenerates the README's console screenshots (docs/console/*.png) from a fresh Lamina with a few functions.

.venv/bin/python scripts/console_screenshots.py      # needs /usr/bin/chromium
"""

from __future__ import annotations

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
    '    return {"ok": True, "order": event.get("order")}\n'
)


def main() -> None:
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
            for i in range(3):
                client.invoke(FunctionName="orders-api", Payload=json.dumps({"order": 100 + i}))
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(server.url + "/console/")
                page.get_by_text("orders-api").wait_for()
                page.screenshot(path=str(OUT / "list.png"))
                page.goto(server.url + "/console/functions/orders-api/test")
                page.get_by_test_id("test-event-input").fill('{"order": 42}')
                page.get_by_test_id("test-run").click()
                page.get_by_test_id("test-status").wait_for()
                page.screenshot(path=str(OUT / "function-test.png"), full_page=True)
                page.goto(server.url + "/console/functions/orders-api/monitoring")
                page.get_by_test_id("log-lines").filter(has_text="order").wait_for()
                page.get_by_test_id("chart-summary").first.wait_for()
                page.screenshot(path=str(OUT / "monitoring.png"), full_page=True)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
