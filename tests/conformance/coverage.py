"""Why a recorded entry is not replayed yet: the first matching rule names the missing feature."""

from __future__ import annotations

_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("TestLambdaLayer",), "layers: replayed in tests/layers"),
    (("total_code_size",), "code-size deltas of upstream's own zips (exact byte counts)"),
    (("EventInvokeConfig", "event_invoke_config"), "event invoke config: replayed in tests/async_invoke"),
    (("Concurrency", "concurrency"), "concurrency: replayed in tests/concurrency"),
    (("TestLambdaUrl", "url_config"), "function URLs: errors and paging replayed in tests/function_urls/test_api.py"),
    (
        ("EventSourceMapping", "event_source_mapping", "esm"),
        "event source mappings: SQS entries replayed in tests/esm (stream and Kafka sources not built)",
    ),
    (("TestLambdaPermissions", "permissions"), "resource policies: replayed in tests/policies (or not reproducible)"),
    (("TestLambdaImages",), "container images not supported"),
    (("_s3", "test_large_lambda", "test_oversized_lambda"), "packages of hundreds of MB through S3 not replayed"),
    (("SnapStart",), "SnapStart not built"),
    (("RuntimeValidation",), "deprecated-runtime entries (run with validation toggles upstream)"),
    (("capacity_provider",), "capacity providers not built"),
    (("TestPartialARNMatching",), "no recorded responses"),
)


def reason(test_id: str) -> str:
    for needles, why in _RULES:
        if any(n in test_id for n in needles):
            return why
    return "no recorded responses / not reproducible"
