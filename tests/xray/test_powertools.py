"""A function using aws-lambda-powertools' Logger, Metrics and Tracer, unchanged, shipped as a layer built from the
PyPI wheels: its JSON log line is found by FilterLogEvents, its EMF metric by GetMetricStatistics, and its
Tracer subsegments sit under the function's segment in BatchGetTraces."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_zip
from tests.server import LaminaProcess
from tests.xray.conftest import wait_for

# The same pins as the dev extra (pyproject.toml). botocore is not in the layer: the runtime provides it, as
# Lambda's does.
LAYER_PACKAGES = (
    "aws-lambda-powertools==3.37.0",
    "aws-xray-sdk==2.15.0",
    "wrapt==2.5.2",
    "jmespath==1.1.0",
    "typing-extensions==4.16.0",
)

CODE = """
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="orders")
metrics = Metrics(service="orders")
tracer = Tracer(service="orders")


@tracer.capture_method
def charge(order_id):
    tracer.put_annotation(key="order", value=order_id)
    return "charged"


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event, context):
    logger.info("order placed", extra={"order_id": event["id"]})
    metrics.add_metric(name="OrdersPlaced", unit=MetricUnit.Count, value=1)
    return {"status": charge(event["id"])}
"""


@pytest.fixture(scope="session")
def powertools_layer(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The layer zip (python/...), built once per session with pip from PyPI (pip's cache makes reruns fast)."""
    folder = tmp_path_factory.mktemp("powertools-layer")
    target = folder / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), *LAYER_PACKAGES],
        check=True,
        capture_output=True,
        timeout=300,
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(target.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                z.write(path, str(Path("python") / path.relative_to(target)))
    return buf.getvalue()


@pytest.fixture
def layer_arn(lambda_client: Any, powertools_layer: bytes, fn_name: str) -> Iterator[str]:
    layer = lambda_client.publish_layer_version(
        LayerName=f"powertools-{fn_name}", Content={"ZipFile": powertools_layer}, CompatibleRuntimes=["python3.12"]
    )
    yield layer["LayerVersionArn"]
    lambda_client.delete_layer_version(LayerName=f"powertools-{fn_name}", VersionNumber=layer["Version"])


def test_powertools_logger_metrics_and_tracer_run_unchanged(
    lamina: LaminaProcess,
    lambda_client: Any,
    xray: Any,
    create_function: Callable[..., dict[str, Any]],
    fn_name: str,
    layer_arn: str,
) -> None:
    namespace = f"Shop/{fn_name}"
    create_function(
        fn_name,
        Code={"ZipFile": make_zip({"app.py": CODE})},
        Layers=[layer_arn],
        TracingConfig={"Mode": "Active"},
        Timeout=30,
        MemorySize=256,
        Environment={"Variables": {"POWERTOOLS_METRICS_NAMESPACE": namespace}},
    )
    for order in ("o-1", "o-2"):
        out = lambda_client.invoke(FunctionName=fn_name, Payload=json.dumps({"id": order}).encode())
        assert out.get("FunctionError") is None, out["Payload"].read()
        assert json.loads(out["Payload"].read()) == {"status": "charged"}

    # Logger: one JSON line per invocation, with Lambda's context and the X-Ray trace id
    logs = lamina.client("logs")

    def lines() -> list[dict[str, Any]]:
        try:
            events = logs.filter_log_events(
                logGroupName=f"/aws/lambda/{fn_name}", filterPattern='{ $.message = "order placed" }'
            )["events"]
        except logs.exceptions.ResourceNotFoundException:  # the group comes with the first batch of lines
            return []
        return [json.loads(e["message"]) for e in events] if len(events) == 2 else []

    first, second = wait_for(lines)
    assert first["level"] == "INFO" and first["service"] == "orders" and first["order_id"] == "o-1"
    assert first["function_name"] == fn_name and first["cold_start"] is True and second["cold_start"] is False
    root = first["xray_trace_id"]
    assert root.startswith("1-")

    # Metrics: the EMF line became a CloudWatch metric
    cloudwatch = lamina.client("cloudwatch")

    def orders() -> list[float]:
        now = datetime.now(UTC)
        points = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName="OrdersPlaced",
            Dimensions=[{"Name": "service", "Value": "orders"}],
            StartTime=now - timedelta(minutes=10),
            EndTime=now + timedelta(minutes=1),
            Period=660,
            Statistics=["Sum"],
        )["Datapoints"]
        return [p["Sum"] for p in points] if [p["Sum"] for p in points] == [2.0] else []

    assert wait_for(orders) == [2.0]

    # Tracer: its subsegments (sent to the daemon endpoint by aws-xray-sdk) under the function's segment
    def function_segment() -> dict[str, Any] | None:
        got = xray.batch_get_traces(TraceIds=[root])["Traces"]
        if not got:
            return None
        docs = [json.loads(s["Document"]) for s in got[0]["Segments"]]
        function: dict[str, Any] | None = next((d for d in docs if d.get("origin") == "AWS::Lambda::Function"), None)
        if function is None:
            return None
        handler = [s for s in function.get("subsegments", []) if s["name"] == "## handler"]
        if handler and any(s["name"] == "## app.charge" for s in handler[0].get("subsegments", [])):
            return function
        return None

    function = wait_for(function_segment)
    handler = next(s for s in function["subsegments"] if s["name"] == "## handler")
    charge = next(s for s in handler["subsegments"] if s["name"] == "## app.charge")
    assert handler["annotations"]["ColdStart"] is True and handler["annotations"]["Service"] == "orders"
    assert charge["annotations"]["order"] == "o-1"
    assert function["start_time"] <= handler["start_time"] <= charge["start_time"] <= charge["end_time"]
