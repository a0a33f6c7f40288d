"""A full disk at run time (issue 12 item 18): a real `lamina serve` whose data directory is a small tmpfs.

The disk is filled with a file while the server runs; boto3 then sees each service's own 500 saying that
the disk is full, deletes still commit (the reserve is released for them), a restart shows what the API
showed, and once space is freed every write works again.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_zip
from tests.server import LaminaProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="mounting a small tmpfs needs root"),
]
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
FULL = "out of space"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: Path) -> None:
    """Writes `path` until the file system has no block left (unbuffered: a write that fails writes nothing)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 4096):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response: Any = exc.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_full_disk_answers_true_errors_and_deletes_still_work(small_disk: Path) -> None:
    data = small_disk / "data"
    server = LaminaProcess(data).start()
    try:
        lam, sqs, sns = server.client("lambda"), server.client("sqs"), server.client("sns")
        lam.create_function(
            FunctionName="f", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
        )
        keep = sqs.create_queue(QueueName="keep")["QueueUrl"]
        doomed = sqs.create_queue(QueueName="doomed")["QueueUrl"]
        topic = sns.create_topic(Name="t")["TopicArn"]
        sqs.send_message(QueueUrl=doomed, MessageBody="x")
        sqs.send_message(QueueUrl=keep, MessageBody="first")
        handle = sqs.receive_message(QueueUrl=keep, VisibilityTimeout=0)["Messages"][0]["ReceiptHandle"]

        _fill(small_disk / "filler")
        accepted = 1  # "first" on keep
        body = "y" * 200_000
        with pytest.raises(ClientError) as sent:
            for _ in range(400):  # the WAL may hold a little room: what is accepted is stored
                sqs.send_message(QueueUrl=keep, MessageBody=body)
                accepted += 1
        assert _error(sent)[:2] == ("InternalFailure", 500)
        assert FULL in _error(sent)[2]

        with pytest.raises(ClientError) as event:
            lam.invoke(FunctionName="f", InvocationType="Event", Payload=b"{}")
        assert _error(event)[:2] == ("ServiceException", 500) and FULL in _error(event)[2]
        with pytest.raises(ClientError) as created:
            lam.create_function(
                FunctionName="g", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
            )
        code, status, message = _error(created)
        assert (code, status) == ("ServiceException", 500) and FULL in message and "unzip" not in message
        with pytest.raises(ClientError) as published:
            sns.create_topic(Name="t2")
        assert _error(published)[:2] == ("InternalError", 500) and FULL in _error(published)[2]

        # Deletes still commit on the full disk.
        sqs.delete_message(QueueUrl=keep, ReceiptHandle=handle)
        accepted -= 1
        sqs.purge_queue(QueueUrl=doomed)
        sqs.delete_queue(QueueUrl=doomed)
        lam.delete_function(FunctionName="f")
        sns.delete_topic(TopicArn=topic)
        shown = int(
            sqs.get_queue_attributes(QueueUrl=keep, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
        )
        assert shown == accepted
        queues = [u.rsplit("/", 1)[1] for u in sqs.list_queues().get("QueueUrls", [])]
    finally:
        server.stop()

    (small_disk / "filler").unlink()
    server = LaminaProcess(data).start()
    try:
        lam, sqs, sns = server.client("lambda"), server.client("sqs"), server.client("sns")
        keep = sqs.get_queue_url(QueueName="keep")["QueueUrl"]
        assert (
            [u.rsplit("/", 1)[1] for u in sqs.list_queues().get("QueueUrls", [])] == queues == ["keep"]
        )  # the restart shows what the API showed
        attrs = sqs.get_queue_attributes(QueueUrl=keep, AttributeNames=["ApproximateNumberOfMessages"])
        assert int(attrs["Attributes"]["ApproximateNumberOfMessages"]) == accepted  # nothing accepted is lost
        assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == []
        assert sns.list_topics()["Topics"] == []

        # Space is back: writes work again.
        sqs.send_message(QueueUrl=keep, MessageBody="again")
        lam.create_function(
            FunctionName="g", Runtime="python3.12", Role=ROLE, Handler="app.handler", Code={"ZipFile": make_zip()}
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="g")
        assert lam.invoke(FunctionName="g", InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
        sns.create_topic(Name="t2")
    finally:
        server.stop()


def test_space_freed_while_running_lets_writes_resume(small_disk: Path) -> None:
    data = small_disk / "data"
    server = LaminaProcess(data).start()
    try:
        sqs = server.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        _fill(small_disk / "filler")
        with pytest.raises(ClientError) as sent:
            for _ in range(400):
                sqs.send_message(QueueUrl=url, MessageBody="z" * 200_000)
        assert _error(sent)[:2] == ("InternalFailure", 500)
        with pytest.raises(ClientError):  # still full: refused before it is attempted
            sqs.send_message(QueueUrl=url, MessageBody="small")
        (small_disk / "filler").unlink()
        sqs.send_message(QueueUrl=url, MessageBody="small")  # the reserve is re-created, the write admitted
        assert (data / "space-reserve").stat().st_size > 0
    finally:
        server.stop()
