"""The `lamina` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sqlite3
import sys
from pathlib import Path

from lamina import __version__
from lamina.auth.root_keys import FILE as ROOT_FILE
from lamina.auth.root_keys import root_keys
from lamina.cli import cost, tune
from lamina.cli.failure import describe
from lamina.config import DEFAULT_ACCOUNT, DEFAULT_PORT, DEFAULT_REGION, Settings, default_data_dir
from lamina.sandbox.isolation import NetworkIsolationUnavailable


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lamina", description="A self-hosted, AWS Lambda compatible platform.")
    parser.add_argument("--version", action="version", version=f"lamina {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the platform on its embedded default (SQLite)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    serve.add_argument(
        "--data-dir", type=Path, default=None, help=f"where state and code live (default {default_data_dir()})"
    )
    serve.add_argument("--region", default=DEFAULT_REGION, help=f"default region (default {DEFAULT_REGION})")
    serve.add_argument("--account-id", default=DEFAULT_ACCOUNT, help=f"account id (default {DEFAULT_ACCOUNT})")
    serve.add_argument(
        "--state-transition-delay",
        type=float,
        default=0.0,
        help="extra seconds functions stay Pending/InProgress after create/update (default 0)",
    )
    serve.add_argument(
        "--concurrent-executions",
        type=int,
        default=1000,
        help="the account's concurrency limit, as GetAccountSettings reports it (default 1000)",
    )
    serve.add_argument(
        "--memory-merge",
        choices=("auto", "on", "off"),
        default="auto",
        help="let the kernel merge identical pages of idle environments (KSM); auto: when root (default auto)",
    )
    serve.add_argument(
        "--cpu-placement",
        choices=("auto", "off"),
        default="auto",
        help="run the only invocation in flight on the server's CPU, saving a cross-CPU wake-up (default auto)",
    )
    serve.add_argument(
        "--max-environment-memory",
        type=int,
        default=None,
        metavar="MB",
        help="memory of all execution environments together, in MB (default: the host's minus max(1 GiB, 1/8))",
    )
    serve.add_argument(
        "--max-environment-pids",
        type=int,
        default=None,
        metavar="N",
        help="processes of all execution environments together (default: the host's pid_max minus max(1024, 1/4))",
    )
    serve.add_argument(
        "--strict-iam",
        action="store_true",
        help="refuse function roles that are not IAM roles Lambda may assume, and AssumeRole of unknown roles",
    )
    serve.add_argument(
        "--lambda-metrics",
        choices=("on", "off"),
        default="on",
        help="count invocations for the AWS/Lambda CloudWatch metrics and GET /metrics (default on)",
    )
    serve.add_argument(
        "--tracing",
        choices=("on", "off"),
        default="on",
        help="record X-Ray segments of sampled invocations and listen as the X-Ray daemon (default on)",
    )
    serve.add_argument(
        "--otlp-endpoint",
        default=None,
        metavar="URL",
        help="also export the X-Ray spans over OTLP/HTTP to URL (e.g. http://localhost:4318/v1/traces)",
    )
    serve.add_argument(
        "--xray-sampling",
        choices=("default", "all"),
        default="default",
        help="TracingConfig Active: default samples as AWS Lambda (1 invocation a second per function plus 5%% of "
        "the rest); all samples every invocation (default default)",
    )
    serve.add_argument(
        "--auth",
        choices=("none", "sigv4"),
        default=None,
        help="sigv4: every request must carry a valid SigV4 signature; none: no check (default none, loopback only)",
    )
    serve.add_argument(
        "--kinesis-limits",
        choices=("on", "off"),
        default="on",
        help="Kinesis per-shard throughput limits (ProvisionedThroughputExceededException) as AWS's (default on)",
    )
    serve.add_argument(
        "--function-network",
        choices=("host", "isolated"),
        default="host",
        help="isolated: each execution environment gets its own network namespace that reaches only Lamina's port "
        "(refused where namespaces are unavailable); host: functions share the host's network (default host)",
    )
    serve.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    tune.add_parser(sub)
    # CloudFormation stacks on a running Lamina (cli/deploy.py)
    deploy = sub.add_parser("deploy", help="package a SAM/CloudFormation template's local code and deploy it")
    deploy.add_argument("template", type=Path, help="the template file (YAML or JSON)")
    deploy.add_argument("--stack-name", required=True, help="the stack to create or update")
    deploy.add_argument("--parameter-overrides", nargs="*", default=[], metavar="KEY=VALUE", help="parameter values")
    deploy.add_argument(
        "--s3-bucket", default=None, help="bucket for the packaged code (default: the lamina-managed-default stack's)"
    )
    deploy.add_argument("--s3-prefix", default=None, help="key prefix for the packaged code (default: the stack name)")
    listing = sub.add_parser("stacks", help="list the stacks of a running Lamina")
    destroy = sub.add_parser("destroy", help="delete a stack and everything it made")
    destroy.add_argument("stack_name", help="the stack to delete")
    for command in (deploy, listing, destroy):
        command.add_argument("--endpoint-url", default=None, help="Lamina's URL (default $AWS_ENDPOINT_URL or :4566)")
        command.add_argument("--region", default=None, help=f"region (default $AWS_DEFAULT_REGION or {DEFAULT_REGION})")
    cost.add_parser(sub)
    return parser


def _stack_command(args: argparse.Namespace) -> int:
    from lamina.cli import deploy

    cfn = deploy.client(args.endpoint_url, args.region)
    if args.command == "deploy":
        s3 = deploy.client(args.endpoint_url, args.region, "s3")
        return deploy.deploy(
            cfn, s3, args.template, args.stack_name, args.parameter_overrides, args.s3_bucket, args.s3_prefix
        )
    if args.command == "stacks":
        return deploy.stacks(cfn)
    return deploy.destroy(cfn, args.stack_name)


async def _serve(settings: Settings) -> None:
    from lamina.app import Lamina

    app = Lamina(settings)
    await app.start()
    print(f"Lamina {__version__} listening on http://{settings.host}:{app.port}", flush=True)
    print(f"Data directory: {settings.data_dir}", flush=True)
    print(f"Authentication: {settings.auth}", flush=True)
    print(f"Function network: {settings.function_network}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("Lamina stopping", flush=True)
    await app.stop()
    print("Lamina stopped", flush=True)


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "tune":
        return tune.run(args)
    if args.command in ("deploy", "stacks", "destroy"):
        return _stack_command(args)
    if args.command == "cost":
        return cost.run(args)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.auth is None and args.host not in _LOOPBACK and not args.host.startswith("127."):
        print(
            f"lamina: error: refusing to listen on {args.host} without authentication: "
            "pass --auth sigv4 (or --auth none to accept anyone who can reach the port)",
            file=sys.stderr,
            flush=True,
        )
        return 2
    data_dir = (args.data_dir or default_data_dir()).resolve()
    keys: dict[str, str] = {}
    if args.auth == "sigv4":
        key, secret, generated = root_keys(data_dir, os.environ)
        keys = {"access_key_id": key, "secret_access_key": secret}
        if generated:  # shown this once; kept in the data directory, mode 0600
            print(f"Root credentials (generated, kept in {data_dir / ROOT_FILE}):", flush=True)
            print(f"  AWS_ACCESS_KEY_ID={key}", flush=True)
            print(f"  AWS_SECRET_ACCESS_KEY={secret}", flush=True)
    settings = Settings(
        host=args.host,
        port=args.port,
        data_dir=data_dir,
        region=args.region,
        account_id=args.account_id,
        state_transition_delay=args.state_transition_delay,
        concurrent_executions=args.concurrent_executions,
        memory_merge=args.memory_merge,
        cpu_placement=args.cpu_placement == "auto",
        max_environment_memory_mb=args.max_environment_memory,
        max_environment_pids=args.max_environment_pids,
        strict_iam=args.strict_iam,
        lambda_metrics=args.lambda_metrics == "on",
        tracing=args.tracing == "on",
        otlp_endpoint=args.otlp_endpoint,
        xray_sampling=args.xray_sampling,
        auth=args.auth or "none",
        kinesis_limits=args.kinesis_limits == "on",
        function_network=args.function_network,
        **keys,
    )
    import uvloop

    try:
        uvloop.run(_serve(settings))
    except NetworkIsolationUnavailable as exc:
        print(f"lamina: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except (OSError, sqlite3.Error) as exc:
        message = describe(exc, settings)
        if message is None:
            raise
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            logging.getLogger("lamina").debug("start-up failed", exc_info=exc)
        print(f"lamina: error: {message}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
