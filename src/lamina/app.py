"""Assembles the platform: store, control plane, data plane, providers, gateway and HTTP server.

`Lamina` is what `lamina serve` runs and what tests start in-process or as a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lamina import __version__
from lamina.api.gateway import MAX_BODY, Gateway, bind_service
from lamina.api.messages import Request, Response
from lamina.api.protocols.query_protocol import QueryProtocol
from lamina.api.server import serve
from lamina.clock import Clock, SystemClock
from lamina.config import Settings
from lamina.front_doors.alb import AlbDoor
from lamina.front_doors.function_url import FunctionUrlDoor
from lamina.front_doors.function_url_fast import FastUrl
from lamina.front_doors.http_api import HttpApiDoor
from lamina.front_doors.request_signature import SignatureCheck
from lamina.front_doors.rest_api import RestApiDoor
from lamina.functions.concurrency import ConcurrencyControls
from lamina.functions.control import FunctionService
from lamina.functions.event_invoke_config import EventInvokeConfigs
from lamina.functions.event_source_mappings import EventSourceMappings
from lamina.functions.layers import LayerService
from lamina.functions.permissions import FunctionPolicies
from lamina.functions.record import FunctionConfig
from lamina.functions.recursion import RecursionSettings
from lamina.functions.releases import Releases
from lamina.functions.runtime_management import RuntimeManagementConfigs
from lamina.functions.url_configs import FunctionUrls
from lamina.invoke.async_invoker import AsyncInvoker
from lamina.invoke.concurrency import ConcurrencyGate, ConcurrencyLedger
from lamina.invoke.destinations.sns_topic import SnsTopicTarget
from lamina.invoke.destinations.sqs_queue import SqsQueueTarget
from lamina.invoke.executor import Executor
from lamina.sandbox.settings import SandboxSettings
from lamina.services.apigateway.engine import ApiGatewayEngine
from lamina.services.apigateway.provider import ApiGatewayProvider
from lamina.services.apigatewayv2.engine import HttpApiEngine
from lamina.services.apigatewayv2.provider import HttpApiProvider
from lamina.services.elbv2.engine import Elbv2Engine
from lamina.services.elbv2.provider import Elbv2Provider
from lamina.services.lambda_.concurrency_api import ConcurrencyApi
from lamina.services.lambda_.esm_api import EventSourceMappingApi
from lamina.services.lambda_.event_invoke import EventInvokeApi
from lamina.services.lambda_.fast_invoke import FastInvoke
from lamina.services.lambda_.function_settings_api import FunctionSettingsApi
from lamina.services.lambda_.function_urls_api import FunctionUrlsApi
from lamina.services.lambda_.invocation import InvokeFront
from lamina.services.lambda_.layers_api import LayersApi
from lamina.services.lambda_.permissions_api import PermissionsApi
from lamina.services.lambda_.provider import LambdaProvider
from lamina.services.lambda_.service_invoker import ServiceInvoker
from lamina.services.lambda_.streaming import ResponseStreaming
from lamina.services.lambda_.tags_api import TagsApi
from lamina.services.s3.engine import S3Engine
from lamina.services.s3.multipart import MultipartApi
from lamina.services.s3.presign import S3_MAX_OBJECT, presigned_check
from lamina.services.s3.provider import S3Provider
from lamina.services.s3.storage import ObjectFiles
from lamina.services.sns.engine import SnsEngine
from lamina.services.sns.provider import SnsProvider
from lamina.services.sqs.engine import SqsEngine
from lamina.services.sqs.move_tasks import MoveTasks, MoveTasksApi
from lamina.services.sqs.provider import SqsProvider
from lamina.services.sqs.query_model import NO_DETAIL, QUERY_MESSAGES, query_model
from lamina.sources.sqs_poller import SqsPollers
from lamina.store.blobs import BlobStore
from lamina.store.disk_space import DiskSpace
from lamina.store.documents import SqliteStore
from lamina.store.event_queue_sqlite import SqliteEventQueue
from lamina.store.s3_sqlite import S3Store
from lamina.store.sqs_sqlite import SqsStore

log = logging.getLogger(__name__)

ASYNC_CONCURRENCY = 64  # async attempts in flight at once (bounded again by the executor's environments)


def _secret(data_dir: Path) -> bytes:
    """A per-installation key for signing code download URLs; kept so URLs survive a restart."""
    path = data_dir / "url-secret"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


class Lamina:
    def __init__(self, settings: Settings, clock: Clock | None = None, sandbox: SandboxSettings | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.space = DiskSpace(settings.data_dir)  # a full disk: the reserve that lets deletes commit
        self.store = SqliteStore(settings.data_dir / "lamina.db", settings.sqlite_synchronous)
        self.blobs = BlobStore(settings.data_dir / "blobs")
        self.layers = LayerService(self.store, self.blobs, settings.data_dir / "layers", self.clock)
        self.functions = FunctionService(settings, self.store, self.blobs, self.clock, self.layers)
        sandbox = sandbox or SandboxSettings(
            memory_merge=settings.memory_merge,
            cpu_placement=settings.cpu_placement,
            max_environment_memory_mb=settings.max_environment_memory_mb,
            max_environment_pids=settings.max_environment_pids,
        )
        self.executor = Executor(sandbox, self.clock, settings.data_dir)
        # Every invoke, sync or async, takes a concurrency lease first (invoke/concurrency.py): sync callers
        # get 429 when none is free, async events are retried with back-off as throttles.
        self.concurrency = ConcurrencyLedger(settings.concurrent_executions)
        gate = ConcurrencyGate(self.executor, self.concurrency)
        # Async invocation: the durable queue shares the database file (its table is migration 0002).
        self.event_queue = SqliteEventQueue(
            settings.data_dir / "lamina.db", settings.sqlite_synchronous, clock=self.clock
        )
        self.event_invoke_configs = EventInvokeConfigs(self.store, self.functions, self.clock)
        self.async_invoker = AsyncInvoker(
            self.event_queue,
            self.functions,
            self.event_invoke_configs,
            gate,
            self.clock,
            concurrency=min(ASYNC_CONCURRENCY, self.executor.settings.max_environments),
            space=self.space,
        )
        self.functions.on_change(self.event_invoke_configs.function_changed)
        self.functions.on_version_deleted(self.event_invoke_configs.version_deleted)
        self.functions.on_change(self.async_invoker.function_changed)
        self.concurrency_controls = ConcurrencyControls(
            self.functions, self.store, self.concurrency, self.executor, self.clock
        )
        self.functions.on_change(self.concurrency_controls.function_changed)
        self.functions.on_version_deleted(self.concurrency_controls.version_deleted)
        self.policies = FunctionPolicies(self.functions, self.store)
        self.functions.on_change(self.policies.function_changed)
        self.functions.on_version_deleted(self.policies.version_deleted)
        # Recorded-and-answered per-function settings: recursion config, runtime management configs.
        self.recursion = RecursionSettings(self.store, self.functions)
        self.functions.on_change(self.recursion.function_changed)
        self.runtime_management = RuntimeManagementConfigs(self.store, self.functions)
        self.functions.on_change(self.runtime_management.function_changed)
        self.functions.on_version_deleted(self.runtime_management.version_deleted)
        self.invoke_front = InvokeFront(self.functions, gate, self.async_invoker)
        self.functions.on_change(self._retire)
        self.functions.on_version_deleted(self.executor.retire)
        self.releases = Releases(self.functions, self.clock)
        self.lambda_provider = LambdaProvider(
            settings,
            self.functions,
            self.releases,
            _secret(settings.data_dir),
            self.invoke_front,
        )
        # SQS: queues in memory, written through to the same database file (migration 0003).
        self.sqs_store = SqsStore(settings.data_dir / "lamina.db", settings.sqlite_synchronous)
        self.sqs = SqsEngine(self.sqs_store, self.clock)
        self.sqs.load()
        # Message move tasks (DLQ redrive): task records are documents, each message moves in one SQS transaction.
        self.sqs_moves = MoveTasks(self.sqs, self.store, self.clock)
        self.sqs_moves.load()
        # SQS event source mappings: durable records (documents) and one poller per enabled mapping.
        self.event_source_mappings = EventSourceMappings(self.store, self.functions, self.sqs, self.clock)
        self.event_source_mappings.load()
        self.sqs_pollers = SqsPollers(self.sqs, self.functions, gate, self.clock)
        self.event_source_mappings.on_change(self.sqs_pollers.mapping_changed)
        EventInvokeApi(self.functions, self.event_invoke_configs, self.invoke_front).attach(self.lambda_provider)
        # InvokeWithResponseStream, and `open` for streaming front doors (function URLs in RESPONSE_STREAM mode)
        self.response_streaming = ResponseStreaming(self.invoke_front)
        # Function URLs: configs are documents; requests come in by Host (front_doors/function_url.py).
        self.function_urls = FunctionUrls(self.store, self.functions, self.clock)
        self.functions.on_change(self.function_urls.function_changed)
        lambda_service = bind_service(
            "lambda",
            TagsApi(self.lambda_provider, self.event_source_mappings),  # functions' and mappings' tags
            self.lambda_provider,
            LayersApi(self.layers, self.lambda_provider.code_url),
            ConcurrencyApi(self.functions, self.concurrency_controls),
            PermissionsApi(self.functions, self.policies),
            FunctionSettingsApi(self.functions, self.recursion, self.runtime_management),
            EventSourceMappingApi(self.event_source_mappings),
            self.response_streaming,
            FunctionUrlsApi(self.functions, self.function_urls, self._public_port),
            skip_enums=frozenset({"Runtime"}),
            service_checked=frozenset({"compatibleArchitectures"}),  # functions/layers.py, with the runtimes
            body_limits={"Invoke": 6_291_456, "InvokeWithResponseStream": 6_291_456, "InvokeAsync": 262_144},
        )
        # Async outcomes and dead letters can now go to SQS queues (invoke/destinations/sqs_queue.py).
        self.async_invoker.destinations.register("sqs", SqsQueueTarget(self.sqs))
        sqs_provider = SqsProvider(self.sqs, self.clock)
        sqs_enums = frozenset({"QueueAttributeName", "MessageSystemAttributeName"})
        sqs_moves_api = MoveTasksApi(self.sqs_moves)
        sqs_service = bind_service("sqs", sqs_provider, sqs_moves_api, skip_enums=sqs_enums)
        # SQS's query protocol (form posts, XML answers) for SDKs from before 2023, beside the json protocol
        # (errors carry <Detail/>; a request may be posted to the queue's URL instead of naming QueueUrl).
        sqs_query = QueryProtocol(
            query_model(),
            error_detail=True,
            no_detail=NO_DETAIL,
            declaration=True,
            path_member="QueueUrl",
            messages=QUERY_MESSAGES,
        )
        sqs_service.query_twin = bind_service("sqs", sqs_provider, sqs_moves_api, skip_enums=sqs_enums, query=sqs_query)
        # SNS: topics and subscriptions are documents; fan-out to SQS (engine), Lambda (async queue) and http.
        self.sns = SnsEngine(
            self.store,
            self.sqs,
            self.clock,
            settings.public_url,
            lambda_submit=self.async_invoker.submit_arn,
            lambda_allowed=lambda arn, qualifier, topic: self.policies.allows(
                arn, "sns.amazonaws.com", source_arn=topic, qualifier=qualifier
            ),
            data_dir=settings.data_dir,  # the signing key and certificate, and the sms/email outbox
        )
        self.sns.load()
        self.async_invoker.destinations.register("sns", SnsTopicTarget(self.sns))
        sns_service = bind_service("sns", SnsProvider(self.sns, settings.region))
        # Application load balancers with Lambda targets: resources are documents, requests come in by Host.
        self.elbv2 = Elbv2Engine(self.store)
        self.elbv2.load()
        elb_invoker = ServiceInvoker(
            self.functions, self.policies, self.invoke_front, "elasticloadbalancing.amazonaws.com"
        )
        elbv2_service = bind_service("elbv2", Elbv2Provider(self.elbv2, elb_invoker, self.clock))
        # API Gateway REST APIs: one document per API; stages are served by Host (or /restapis/.../_user_request_/).
        self.apigateway = ApiGatewayEngine(self.store)
        self.apigateway.load()
        apigateway_invoker = ServiceInvoker(
            self.functions, self.policies, self.invoke_front, "apigateway.amazonaws.com"
        )
        apigateway_service = bind_service("apigateway", ApiGatewayProvider(self.apigateway, self.clock))
        # API Gateway HTTP APIs: one document per API, requests come in by Host (<api-id>.execute-api.localhost).
        self.http_apis = HttpApiEngine(self.store)
        self.http_apis.load()
        http_api_service = bind_service("apigatewayv2", HttpApiProvider(self.http_apis, self.clock))
        # S3: metadata in migration 0005's tables, object bytes in files under <data dir>/s3 (services/s3/storage.py).
        self.s3_store = S3Store(settings.data_dir / "lamina.db", settings.sqlite_synchronous)
        self.s3 = S3Engine(self.s3_store, ObjectFiles(settings.data_dir / "s3"), self.clock, settings.region)
        self.s3.load()
        s3_service = bind_service(
            "s3",
            S3Provider(self.s3),
            MultipartApi(self.s3),
            body_limits={"PutObject": S3_MAX_OBJECT, "UploadPart": S3_MAX_OBJECT},
        )
        s3_service.admit = presigned_check(self.clock)  # X-Amz-Expires on presigned URLs
        self.gateway = Gateway(
            [lambda_service, sqs_service, sns_service, elbv2_service, apigateway_service, http_api_service, s3_service],
            settings.region,
            settings.account_id,
            settings.public_url,
            internal=self._internal,
            space=self.space,
        )
        self.gateway.add_door(AlbDoor(self.elbv2, elb_invoker))
        # Both API doors serve <api-id>.execute-api.localhost: the HTTP API door claims only its own ids, the
        # REST door every other (an unknown id gets REST's 403 Missing Authentication Token).
        self.gateway.add_door(HttpApiDoor(self.http_apis, apigateway_invoker))
        self.gateway.add_door(RestApiDoor(self.apigateway, apigateway_invoker, self.clock, settings.port))
        url_invoker = ServiceInvoker(self.functions, self.policies, self.invoke_front, "*")
        signatures = SignatureCheck(settings.access_key_id, settings.secret_access_key, settings.account_id)
        url_door = FunctionUrlDoor(
            self.function_urls, url_invoker, self.response_streaming, signatures, self.clock, self._public_port
        )
        self.gateway.add_door(url_door)
        # The plain warm synchronous Invoke skips the general request path (services/lambda_/fast_invoke.py).
        self.fast_invoke = FastInvoke(
            self.functions,
            self.concurrency,
            self.executor,
            lambda_service,
            settings.region,
            settings.account_id,
            events=self.async_invoker,
            claimed=self.gateway.door_claims,
        )
        # ... and so does the warm buffered function URL request (front_doors/function_url_fast.py).
        self.fast_url = FastUrl(url_door, self.functions, self.concurrency, self.executor)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        await self.executor.start()
        await self.functions.start()
        self.async_invoker.start()
        self.concurrency_controls.start()
        self.event_source_mappings.start()
        self.sqs_moves.start()  # message move tasks a stop (or crash) interrupted
        self.sns.start()  # http/https deliveries a stop interrupted
        self._server = await serve(
            self.gateway.handle,
            self.settings.host,
            self.settings.port,
            MAX_BODY,
            self.gateway.too_large,
            self.gateway.bad_request,
            self._fast,
            body_cap=self.gateway.body_cap,
        )
        self.executor.serve_api_at(self.settings.host, self.port, self._serve_inside)

    async def _serve_inside(self, sock: socket.socket) -> asyncio.Server:
        """The API on a listener an environment bound in its private network namespace."""
        gateway = self.gateway
        return await serve(
            gateway.handle,
            "",
            0,
            MAX_BODY,
            gateway.too_large,
            gateway.bad_request,
            self._fast,
            sock=sock,
            body_cap=gateway.body_cap,
        )

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def _fast(self, request: Request, respond: Callable[[Response], None]) -> bool:
        """The server's fast path: a plain warm Invoke, else a plain warm function URL request."""
        return self.fast_invoke(request, respond) or self.fast_url(request, respond)

    def _public_port(self) -> int:
        """The port URLs name: the listening one once started (settings may say 0: any free port)."""
        return self.port if self._server is not None else self.settings.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self.async_invoker.close()
        await self.concurrency_controls.close()
        await self.event_source_mappings.close()
        await self.sqs_pollers.close()
        self.functions.close()
        await self.executor.close()
        await self.event_queue.close()
        await self.sns.close()
        await self.sqs_moves.close()
        await self.sqs.close()
        await self.sqs_store.close()
        self.s3_store.close()
        self.store.close()

    def _retire(self, config: FunctionConfig | None, function_arn: str) -> None:
        """Code or configuration of $LATEST changed (or the function is gone): old environments get no
        new work. Published versions never change, so only $LATEST's are retired on change."""
        self.executor.retire(function_arn, None if config is None else "$LATEST")

    # -- Lamina's own endpoints -----------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return {
            "status": "running",
            "version": __version__,
            "dataDir": str(self.settings.data_dir),
            "services": {
                "lambda": "running",
                "sqs": "running",
                "sns": "running",
                "elbv2": "running",
                "apigateway": "running",
                "apigatewayv2": "running",
                "s3": "running",
            },
            "isolation": self.executor.isolation_report(),
            "asyncInvocations": dict(self.async_invoker.stats),
            "fastInvokes": self.fast_invoke.taken,
            "fastEventInvokes": self.fast_invoke.events_taken,
            "fastUrlRequests": self.fast_url.taken,
        }

    def _internal(self, request: Request) -> Response | None:
        path = request.path
        if request.method == "GET" and path == f"/{self.sns.signer.cert_name}":  # SNS's SigningCertURL
            return Response(200, [("Content-Type", "application/x-x509-ca-cert")], self.sns.signer.cert_pem)
        if not (path.startswith("/_lamina/") or path in ("/health", "/_lamina")):
            return None
        if path in ("/health", "/_lamina/health") and request.method == "GET":
            return Response(200, [("Content-Type", "application/json")], json.dumps(self.health()).encode())
        if path in ("/_lamina/async/pause", "/_lamina/async/resume") and request.method == "POST":
            self.async_invoker.pause(path.endswith("/pause"))
            return Response(
                200, [("Content-Type", "application/json")], json.dumps({"paused": self.async_invoker.paused}).encode()
            )
        if path.startswith("/_lamina/code/") and request.method == "GET":
            digest = path.rsplit("/", 1)[-1]
            query = request.query
            found = self.lambda_provider.code_path_if_signed(
                digest, query.get("Expires", [""])[0], query.get("Signature", [""])[0]
            )
            if found is None:
                return Response(403, [("Content-Type", "application/xml")], b"<Error><Code>AccessDenied</Code></Error>")
            return Response(200, [("Content-Type", "application/zip")], Path(found).read_bytes())
        return Response(404, [("Content-Type", "application/json")], b'{"message":"Not Found"}')
