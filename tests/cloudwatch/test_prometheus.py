"""GET /metrics on the API port, in the Prometheus text format, parsed by prometheus-client's own parser."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import make_zip
from tests.server import LaminaProcess

CODE = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("no")
    return {}
"""


def _scrape(lamina: LaminaProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"{lamina.url}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_invocations_durations_and_cold_starts(
    lamina: LaminaProcess, lambda_client: Any, create_function: Callable[..., dict[str, Any]], fn_name: str
) -> None:
    create_function(fn_name, Code={"ZipFile": make_zip({"app.py": CODE})})
    for i in range(5):
        lambda_client.invoke(FunctionName=fn_name, Payload=b'{"fail": true}' if i == 0 else b"{}")
    sqs = lamina.client("sqs")
    url = sqs.create_queue(QueueName=f"{fn_name}-q")["QueueUrl"]
    try:
        sqs.send_message(QueueUrl=url, MessageBody="a")
        sqs.send_message(QueueUrl=url, MessageBody="b")
        got = _scrape(lamina)
    finally:
        sqs.delete_queue(QueueUrl=url)
    fn = (("function", fn_name),)
    assert got[("lamina_invocations_total", (*fn, ("outcome", "success")))] == 4
    assert got[("lamina_invocations_total", (*fn, ("outcome", "error")))] == 1
    assert got[("lamina_invocation_duration_seconds_count", fn)] == 5
    assert got[("lamina_invocation_duration_seconds_bucket", (*fn, ("le", "+Inf")))] == 5
    assert got[("lamina_invocation_duration_seconds_sum", fn)] > 0
    assert got[("lamina_cold_starts_total", fn)] == 1
    assert got[("lamina_throttles_total", fn)] == 0
    assert got[("lamina_sqs_messages", (("queue", f"{fn_name}-q"), ("state", "visible")))] == 2
    assert sum(v for (name, _), v in got.items() if name == "lamina_environments") >= 1
