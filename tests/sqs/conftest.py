from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config

from tests.server import LaminaProcess


@pytest.fixture(scope="session")
def sqs(lamina: LaminaProcess) -> Any:
    return lamina.client("sqs")


# botocore 1.31.64's SQS model (documentation stripped), the last that spoke the query protocol: a client built
# from it is an older SDK, form posts out and XML back, independent of the model Lamina derives for that protocol.
QUERY_MODELS = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def sqs_query(lamina: LaminaProcess) -> Any:
    session = botocore.session.get_session()
    session.get_component("data_loader").search_paths.insert(0, str(QUERY_MODELS))
    client = session.create_client(
        "sqs",
        endpoint_url=lamina.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    assert client.meta.service_model.protocol == "query"
    return client


@pytest.fixture
def make_queue(sqs: Any) -> Iterator[Callable[..., str]]:
    """Creates uniquely named queues (FIFO when `fifo=True`) and deletes them after the test."""
    created: list[str] = []

    def make(fifo: bool = False, **attributes: str) -> str:
        name = f"q-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        if fifo:
            attributes.setdefault("FifoQueue", "true")
        url: str = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        created.append(url)
        return url

    yield make
    for url in created:
        try:
            sqs.delete_queue(QueueUrl=url)
        except sqs.exceptions.QueueDoesNotExist:
            pass


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.sqs.test_conformance import RESULTS, SQS_FILE

    if not RESULTS:
        return
    matched = sum(ok for _, _, ok in RESULTS)
    entries = {entry for entry, _, _ in RESULTS}
    terminalreporter.section("SQS conformance (recorded AWS responses)")
    terminalreporter.write_line(
        f"sqs conformance: {matched} of {len(RESULTS)} recorded responses match ({len(entries)} entries of {SQS_FILE})"
    )
    for entry, name, ok in RESULTS:
        if not ok:
            terminalreporter.write_line(f"  MISMATCH -- {entry} :: {name}")
