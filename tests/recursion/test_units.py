"""The lineage arithmetic of loop detection, without a server."""

from __future__ import annotations

from urllib.parse import quote

from lamina.invoke.loop_detection import MAX_HOPS, LoopDetector, function_id, lineage

ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"
OTHER = "arn:aws:lambda:us-east-1:000000000000:function:g"


def test_each_invocation_counts_one_hop_for_its_function() -> None:
    header: str | None = None
    for hop in range(1, 5):
        header = LoopDetector.trace_id(ARN, [header])
        assert lineage(header) == {function_id(ARN): hop}
    assert header is not None and header.startswith("Root=1-")


def test_root_is_kept_and_other_functions_are_carried() -> None:
    first = LoopDetector.trace_id(OTHER, [None])
    second = LoopDetector.trace_id(ARN, [first])
    assert second.split(";")[0] == first.split(";")[0]
    assert lineage(second) == {function_id(OTHER): 1, function_id(ARN): 1}
    batch = LoopDetector.trace_id(ARN, [second, LoopDetector.trace_id(ARN, [second]), None])
    assert lineage(batch)[function_id(ARN)] == 3  # the longest chain in the batch counts


def test_qualified_arn_is_the_same_function() -> None:
    assert function_id(ARN + ":live") == function_id(ARN) != function_id(OTHER)


def test_stops_at_16_unless_allowed() -> None:
    settings = {"f": "Terminate"}
    detector = LoopDetector(lambda region, name: settings.get(name, "Terminate"))
    header: str | None = None
    for _ in range(MAX_HOPS - 1):
        header = LoopDetector.trace_id(ARN, [header])
    assert not detector.looping(ARN, header)  # 15 hops so far: the 16th runs
    header = LoopDetector.trace_id(ARN, [header])
    assert detector.looping(ARN, header)
    assert detector.looping(ARN, quote(header, safe="-=;:+&[]{}\"',"))  # as botocore sends it
    assert not detector.looping(OTHER, header)
    settings["f"] = "Allow"
    assert not detector.looping(ARN, header)


def test_headers_without_lineage_or_malformed_never_stop() -> None:
    detector = LoopDetector(lambda region, name: "Terminate")
    for header in (None, "", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", "Lineage=zz:x|:3|abc"):
        assert not detector.looping(ARN, header)
