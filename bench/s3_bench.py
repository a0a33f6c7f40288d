"""S3 PUT and GET throughput for 4 KB and 1 MB objects against a real `lamina serve`, through boto3 (what users
run) with N concurrent client threads, plus the server's peak RSS.

    .venv/bin/python bench/s3_bench.py [--seconds 5] [--clients 4] [--auth sigv4]

`--auth sigv4` signs every call as an IAM user whose identity policy allows `s3:*` (the authorizer's path for a
bucket without ACL grants: the identity policy decides, no ACL is read).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
from botocore.config import Config
from tests.server import LaminaProcess

SIZES = {"4 KB": 4 * 1024, "1 MB": 1024 * 1024}
ROOT = ("AKIABENCHROOT0000001", "bench-root-secret-0123456789abcdefghij")


def _start(data: Path, auth: str) -> LaminaProcess:
    if auth == "none":
        return LaminaProcess(data).start()
    os.environ["LAMINA_ROOT_ACCESS_KEY_ID"], os.environ["LAMINA_ROOT_SECRET_ACCESS_KEY"] = ROOT
    return LaminaProcess(data, "--auth", "sigv4").start()


def _client(server: LaminaProcess, service: str, key: tuple[str, str]) -> Any:
    return boto3.client(service, endpoint_url=server.url, region_name="us-east-1", aws_access_key_id=key[0],
                        aws_secret_access_key=key[1], config=Config(retries={"max_attempts": 1}))  # fmt: skip


def _clients(server: LaminaProcess, auth: str, count: int) -> list[Any]:
    if auth == "none":
        return [server.client("s3") for _ in range(count)]
    iam = _client(server, "iam", ROOT)
    iam.create_user(UserName="bench")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="bench", PolicyName="s3", PolicyDocument=json.dumps(policy))
    made = iam.create_access_key(UserName="bench")["AccessKey"]
    return [_client(server, "s3", (made["AccessKeyId"], made["SecretAccessKey"])) for _ in range(count)]


def _run(clients: list[Any], seconds: float, work: Any) -> list[int]:
    """How many calls each client thread made in `seconds`."""
    done = [0] * len(clients)
    stop = time.monotonic() + seconds

    def loop(i: int) -> None:
        n = 0
        while time.monotonic() < stop:
            work(clients[i], i, n)
            n += 1
        done[i] = n

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--auth", choices=("none", "sigv4"), default="none")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = _start(Path(data), args.auth)
        try:
            clients = _clients(server, args.auth, args.clients)
            clients[0].create_bucket(Bucket="bench")
            print(f"S3 through boto3, --auth {args.auth}, {args.clients} client threads, "
                  f"{args.seconds:.0f} s per figure")  # fmt: skip
            for label, size in SIZES.items():
                body = os.urandom(size)
                prefix = label.replace(" ", "")

                def put(c: Any, i: int, n: int, body: bytes = body, prefix: str = prefix) -> None:
                    c.put_object(Bucket="bench", Key=f"{prefix}/{i}/{n % 50}", Body=body)

                written: list[int] = []

                def get(c: Any, i: int, n: int, prefix: str = prefix, written: list[int] = written) -> None:
                    c.get_object(Bucket="bench", Key=f"{prefix}/{i}/{n % written[i]}")["Body"].read()

                for name, work in (("PUT", put), ("GET", get)):
                    counts = _run(clients, args.seconds, work)
                    if name == "PUT":
                        written.extend(max(1, min(50, n)) for n in counts)
                    rate = sum(counts) / args.seconds
                    print(f"  {name} {label:>5}: {rate:8.1f} objects/s  {rate * size / 2**20:8.1f} MB/s")
            assert server.proc is not None
            print(f"  server peak RSS: {_peak_rss(server.proc.pid) / 2**20:.0f} MB")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
