"""Starting code for "Create function → Use a blueprint", as the Lambda console offers it.

Each blueprint is a runtime, a handler and the files of its zip; the console creates the function with
CreateFunction, exactly as a user's zip would be created.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Blueprint:
    id: str
    title: str
    description: str
    runtime: str
    handler: str
    files: dict[str, str]

    def zip_bytes(self) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name, text in self.files.items():
                z.writestr(name, text)
        return buf.getvalue()


_HELLO_PY = """import json


def lambda_handler(event, context):
    print("Received event: " + json.dumps(event))
    return {"statusCode": 200, "body": json.dumps("Hello from Lambda!")}
"""

_HELLO_NODE = """export const handler = async (event) => {
  console.log("Received event:", JSON.stringify(event));
  return { statusCode: 200, body: JSON.stringify("Hello from Lambda!") };
};
"""

_SQS_PY = """def lambda_handler(event, context):
    for record in event["Records"]:
        print("Message body:", record["body"])
    return {"batchItemFailures": []}
"""

_S3_PY = """import urllib.parse


def lambda_handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        print(f"Object created: s3://{bucket}/{key}")
    return {"processed": len(event["Records"])}
"""

_API_PY = """import json


def lambda_handler(event, context):
    method = event.get("requestContext", {}).get("http", {}).get("method") or event.get("httpMethod", "GET")
    path = event.get("rawPath") or event.get("path", "/")
    print(f"{method} {path}")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"method": method, "path": path}),
    }
"""

BLUEPRINTS: dict[str, Blueprint] = {
    b.id: b
    for b in (
        Blueprint(
            "hello-python",
            "Hello world (Python)",
            "A function that logs the event and returns a greeting.",
            "python3.12",
            "lambda_function.lambda_handler",
            {"lambda_function.py": _HELLO_PY},
        ),
        Blueprint(
            "hello-node",
            "Hello world (Node.js)",
            "A function that logs the event and returns a greeting.",
            "nodejs20.x",
            "index.handler",
            {"index.mjs": _HELLO_NODE},
        ),
        Blueprint(
            "sqs-consumer",
            "SQS consumer (Python)",
            "Processes a batch of SQS messages from an event source mapping.",
            "python3.12",
            "lambda_function.lambda_handler",
            {"lambda_function.py": _SQS_PY},
        ),
        Blueprint(
            "s3-trigger",
            "S3 trigger (Python)",
            "Logs the bucket and key of each S3 event notification record.",
            "python3.12",
            "lambda_function.lambda_handler",
            {"lambda_function.py": _S3_PY},
        ),
        Blueprint(
            "api-backend",
            "API backend (Python)",
            "Answers API Gateway / function URL requests with JSON.",
            "python3.12",
            "lambda_function.lambda_handler",
            {"lambda_function.py": _API_PY},
        ),
    )
}
