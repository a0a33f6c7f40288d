"""HTTP API route vs direct Invoke: p50/p99 latency of the same function, in the same run.

    .venv/bin/python bench/api_gateway_bench.py [--requests 500]

Creates a Python function that returns a small proxy answer, an HTTP API (`GET /items/{id}`, payload 1.0,
`$default` stage auto-deployed) in front of it, then times sequential requests through the execute-api door
(one keep-alive http.client connection, Host header set) and sequential boto3 Invoke calls.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import make_zip
from tests.server import ROLE, LaminaProcess

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms  p99 {p99 * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = LaminaProcess(Path(folder) / "data").start()
        try:
            lam: Any = server.client("lambda")
            apigw: Any = server.client("apigatewayv2")
            arn = lam.create_function(
                FunctionName="bench",
                Runtime="python3.12",
                Role=ROLE,
                Handler="app.handler",
                Code={"ZipFile": make_zip({"app.py": HANDLER})},
            )["FunctionArn"]
            api_id = apigw.create_api(Name="bench", ProtocolType="HTTP")["ApiId"]
            integration = apigw.create_integration(
                ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion="1.0"
            )
            target = f"integrations/{integration['IntegrationId']}"
            apigw.create_route(ApiId=api_id, RouteKey="GET /items/{id}", Target=target)
            apigw.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
            lam.add_permission(
                FunctionName="bench",
                StatementId="apigw",
                Action="lambda:InvokeFunction",
                Principal="apigateway.amazonaws.com",
                SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*",
            )
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            host = f"{api_id}.execute-api.localhost:{server.port}"

            def through_route() -> None:
                conn.request("GET", "/items/7", headers={"Host": host})
                response = conn.getresponse()
                assert response.status == 200 and response.read() == b"ok"

            def direct() -> None:
                out = lam.invoke(FunctionName="bench", Payload=json.dumps({"id": "7"}))
                assert out["StatusCode"] == 200
                out["Payload"].read()

            for call in (through_route, direct):  # warm both paths
                for _ in range(20):
                    call()
            results: dict[str, list[float]] = {"route": [], "invoke": []}
            for _ in range(args.requests):  # interleaved, so both see the same machine load
                for name, call in (("route", through_route), ("invoke", direct)):
                    start = time.perf_counter()
                    call()
                    results[name].append(time.perf_counter() - start)
            conn.close()
            for name, samples in results.items():
                print(f"{name:7s} {percentiles(samples)}  ({len(samples)} requests)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
