"""Assembles the platform: store, control plane, data plane, providers, gateway and HTTP server.

`Lamina` is what `lamina serve` runs and what tests start in-process or as a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lamina import __version__
from lamina.api.gateway import MAX_BODY, Gateway, bind_service, credential_scope
from lamina.api.local_calls import LocalCalls
from lamina.api.messages import Request, Response
from lamina.api.protocols.query_protocol import QueryProtocol
from lamina.api.server import serve
from lamina.auth.authorizer import Authorizer
from lamina.auth.keyring import Keyring
from lamina.auth.resource_policies import ResourcePolicies
from lamina.auth.sigv4 import AuthFailure, Secret, Verifier
from lamina.clock import Clock, SystemClock
from lamina.config import Settings
from lamina.console.api import ConsoleApi
from lamina.console.sessions import Sessions
from lamina.console.site import ConsoleSite, is_console
from lamina.console.test_events import SavedEvents
from lamina.console.tuning import TuneRuns
from lamina.errors import InvalidParameter, LaminaError
from lamina.front_doors.alb import AlbDoor
from lamina.front_doors.authorizer_cache import AuthorizerCache
from lamina.front_doors.function_url import FunctionUrlDoor
from lamina.front_doors.function_url_fast import FastUrl
from lamina.front_doors.http_api import HttpApiDoor
from lamina.front_doors.request_signature import SignatureCheck
from lamina.front_doors.rest_api import RestApiDoor
from lamina.functions.code_signing import CodeSigningConfigs
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
from lamina.invoke import trace_header
from lamina.invoke.async_invoker import AsyncInvoker
from lamina.invoke.concurrency import ConcurrencyGate, ConcurrencyLedger
from lamina.invoke.destinations import Delivery, TargetUnavailable
from lamina.invoke.destinations.event_bus import EventBusTarget
from lamina.invoke.destinations.lambda_function import LambdaFunctionTarget
from lamina.invoke.destinations.sns_topic import SnsTopicTarget
from lamina.invoke.destinations.sqs_queue import SqsQueueTarget
from lamina.invoke.executor import Executor
from lamina.invoke.loop_detection import LoopDetector
from lamina.invoke.sampling import DefaultSampling
from lamina.sandbox.settings import SandboxSettings
from lamina.services.apigateway.engine import ApiGatewayEngine
from lamina.services.apigateway.provider import ApiGatewayProvider
from lamina.services.apigatewayv2.engine import HttpApiEngine
from lamina.services.apigatewayv2.provider import HttpApiProvider
from lamina.services.cloudformation.engine import StackEngine
from lamina.services.cloudformation.provider import CloudFormationProvider
from lamina.services.cloudformation.resource_types import resource_types
from lamina.services.cloudformation.template_source import TemplateSource
from lamina.services.cloudwatch.alarms import Alarms
from lamina.services.cloudwatch.emf import EmbeddedMetrics
from lamina.services.cloudwatch.engine import MetricsEngine
from lamina.services.cloudwatch.lambda_metrics import LambdaMetrics
from lamina.services.cloudwatch.prometheus_export import CONTENT_TYPE as PROMETHEUS_TYPE
from lamina.services.cloudwatch.prometheus_export import LaminaCollector, PrometheusExport
from lamina.services.cloudwatch.provider import AlarmsProvider, CloudWatchProvider
from lamina.services.cloudwatch.sqs_metrics import SqsMetrics
from lamina.services.dynamodb.batches import Batches
from lamina.services.dynamodb.engine import DynamoEngine
from lamina.services.dynamodb.esm_source import DynamoStreamSource
from lamina.services.dynamodb.partiql.statements import PartiQL
from lamina.services.dynamodb.provider import DynamoProvider
from lamina.services.dynamodb.reading import Reading
from lamina.services.dynamodb.streams import StreamsProvider
from lamina.services.elbv2.engine import Elbv2Engine
from lamina.services.elbv2.provider import Elbv2Provider
from lamina.services.events.archive_api import ArchiveApi
from lamina.services.events.archives import Archives
from lamina.services.events.dispatch import Dispatcher as EventsDispatcher
from lamina.services.events.engine import EventsEngine
from lamina.services.events.provider import EventsProvider
from lamina.services.events.rule_schedules import RuleSchedules
from lamina.services.iam.aws_managed import managed_policies
from lamina.services.iam.engine import IamEngine
from lamina.services.iam.identities import Identities
from lamina.services.iam.identities_api import IdentitiesApi
from lamina.services.iam.provider import IamProvider
from lamina.services.iam.simulation_api import SimulationApi
from lamina.services.kinesis.engine import KinesisEngine
from lamina.services.kinesis.esm_source import KinesisSource
from lamina.services.kinesis.limits import Throughput
from lamina.services.kinesis.provider import KinesisProvider
from lamina.services.lambda_.code_signing_api import CodeSigningApi
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
from lamina.services.logs.engine import LogsEngine
from lamina.services.logs.live_tail import LiveTails
from lamina.services.logs.provider import LogsProvider
from lamina.services.logs.subscriptions import SubscriptionFilters
from lamina.services.s3.acl_access import S3Access
from lamina.services.s3.acl_api import AclApi
from lamina.services.s3.cors_api import CorsApi
from lamina.services.s3.cors_door import S3CorsDoor
from lamina.services.s3.encryption_api import EncryptionApi
from lamina.services.s3.engine import S3Engine
from lamina.services.s3.lifecycle import Lifecycle
from lamina.services.s3.lifecycle_api import LifecycleApi
from lamina.services.s3.multipart import MultipartApi
from lamina.services.s3.notifications import TargetGone
from lamina.services.s3.notifications import Targets as S3Targets
from lamina.services.s3.post_door import S3PostDoor
from lamina.services.s3.presign import S3_MAX_OBJECT, presigned_check
from lamina.services.s3.provider import S3Provider
from lamina.services.s3.restore_api import RestoreApi
from lamina.services.s3.storage import ObjectFiles
from lamina.services.s3.tagging_api import ObjectTaggingApi
from lamina.services.scheduler.delivery import Attributes, Deliver, TargetDelivery
from lamina.services.scheduler.engine import SchedulerEngine
from lamina.services.scheduler.provider import SchedulerProvider
from lamina.services.sns.engine import SnsEngine
from lamina.services.sns.provider import SnsProvider
from lamina.services.sqs.engine import SqsEngine
from lamina.services.sqs.move_tasks import MoveTasks, MoveTasksApi
from lamina.services.sqs.provider import SqsProvider
from lamina.services.sqs.query_model import NO_DETAIL, QUERY_MESSAGES, query_model
from lamina.services.sts.engine import KnownRole, StsEngine
from lamina.services.sts.function_credentials import FunctionRoleCredentials
from lamina.services.sts.provider import StsProvider
from lamina.services.xray.daemon import XrayDaemon
from lamina.services.xray.engine import TraceEngine
from lamina.services.xray.provider import XrayProvider
from lamina.sources.sqs_poller import SqsPollers
from lamina.sources.stream_poller import StreamPollers
from lamina.sources.stream_source import StreamSource
from lamina.store.blobs import BlobStore
from lamina.store.disk_space import DiskSpace
from lamina.store.documents import SqliteStore
from lamina.store.dynamodb_sqlite import DynamoStore
from lamina.store.event_queue_sqlite import SqliteEventQueue
from lamina.store.kinesis_sqlite import KinesisStore
from lamina.store.metrics_sqlite import MetricTables
from lamina.store.s3_sqlite import S3Store
from lamina.store.sqs_sqlite import SqsStore
from lamina.store.traces_sqlite import TraceTables

log = logging.getLogger(__name__)

ASYNC_CONCURRENCY = 64  # async attempts in flight at once (bounded again by the executor's environments)


def _secret(data_dir: Path) -> bytes:
    """A per-installation key for signing code download URLs; kept so URLs survive a restart."""
    path = data_dir / "url-secret"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


@lru_cache(maxsize=1024)
def _session_document(text: str) -> dict[str, Any]:
    """An inline session policy parsed once (checked when it was issued; evaluation only reads it)."""
    parsed: dict[str, Any] = json.loads(text)
    return parsed


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
            network_namespace=settings.function_network == "isolated",
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
        # Recursive loop detection (invoke/loop_detection.py): the SQS pollers and the async invoker stop an
        # event whose request chain went through its function 16 times, unless its RecursiveLoop is Allow
        # (Put/GetFunctionRecursionConfig). SQS and SNS carry the chain on as the X-Amzn-Trace-Id they got.
        self.recursion = RecursionSettings(self.store, self.functions)
        self.functions.on_change(self.recursion.function_changed)
        self.loops = LoopDetector(self.recursion.loop_setting)
        self.async_invoker = AsyncInvoker(
            self.event_queue,
            self.functions,
            self.event_invoke_configs,
            gate,
            self.clock,
            concurrency=min(ASYNC_CONCURRENCY, self.executor.settings.max_environments),
            space=self.space,
            loops=self.loops,
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
        # Recorded-and-answered per-function settings: runtime management configs.
        self.runtime_management = RuntimeManagementConfigs(self.store, self.functions)
        self.functions.on_change(self.runtime_management.function_changed)
        self.functions.on_version_deleted(self.runtime_management.version_deleted)
        self.invoke_front = InvokeFront(self.functions, gate, self.async_invoker)
        self.functions.on_change(self._retire)
        self.functions.on_version_deleted(self.executor.retire)
        self.releases = Releases(self.functions, self.clock)
        # IAM (roles, managed and inline policies: documents) and STS (temporary credentials: documents). STS
        # reads roles through `_known_role`; environments get their role's credentials from STS; with
        # --strict-iam, Lambda accepts only roles IAM has whose trust policy lets lambda.amazonaws.com assume them.
        self.iam = IamEngine(self.store, self.clock, settings.account_id)
        self.iam.load()
        # IAM users (with access keys) and groups: documents beside roles (services/iam/identities.py).
        self.identities = Identities(self.store, self.clock, self.iam)
        self.identities.load()
        self.sts = StsEngine(
            self.store,
            self.clock,
            settings.account_id,
            self._known_role,
            strict=settings.strict_iam,
            users=self._user_of_key,
        )
        self.sts.load()
        self.executor.credentials = FunctionRoleCredentials(self.sts, self._function_role)
        role_check = (lambda arn: self.iam.assumable_by(arn, "lambda.amazonaws.com")) if settings.strict_iam else None
        # Code signing configs: documents; a function's binding is part of its own document. No signing
        # service yet, so every package is unsigned: `Enforce` refuses deployments, `Warn` logs them.
        self.code_signing = CodeSigningConfigs(self.store, self.functions, self.clock)
        self.lambda_provider = LambdaProvider(
            settings,
            self.functions,
            self.releases,
            _secret(settings.data_dir),
            self.invoke_front,
            self.code_signing,
            role_check=role_check,
        )
        # SQS: queues in memory, written through to the same database file (migration 0003).
        self.sqs_store = SqsStore(settings.data_dir / "lamina.db", settings.sqlite_synchronous)
        self.sqs = SqsEngine(self.sqs_store, self.clock)
        self.sqs.load()
        # Message move tasks (DLQ redrive): task records are documents, each message moves in one SQS transaction.
        self.sqs_moves = MoveTasks(self.sqs, self.store, self.clock)
        self.sqs_moves.load()
        # SQS event source mappings: durable records (documents) and one poller per enabled mapping.
        self.event_source_mappings = EventSourceMappings(
            self.store, self.functions, self.sqs, self.clock, stream_exists=self._stream_exists
        )
        self.event_source_mappings.load()
        self.sqs_pollers = SqsPollers(self.sqs, self.functions, gate, self.clock, loops=self.loops)
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
            CodeSigningApi(self.functions, self.code_signing),
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
        # Queue and topic policies (auth/resource_policies.py): beside identity policies under --auth sigv4, and
        # for sns.amazonaws.com sending to a queue in both modes (a queue without a policy: refused only in sigv4).
        self.resource_policies = ResourcePolicies(
            settings.account_id,
            self._queue_policy,
            self._topic_policy,
            self._resource_policy_allows,
            self._role_of_session,
            self._bucket_policy,
        )
        strict = settings.auth == "sigv4"
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
            sqs_allowed=lambda queue, topic: self._service_refusal(
                "sns.amazonaws.com", "sqs:SendMessage", queue, topic, strict
            ),
        )
        self.sns.load()
        self.async_invoker.destinations.register("sns", SnsTopicTarget(self.sns))
        sns_service = bind_service("sns", SnsProvider(self.sns, settings.region))
        # EventBridge: buses, rules (targets inside) and accepted-but-undelivered events are documents; events go
        # to Lambda (the async queue, as events.amazonaws.com), SQS, SNS and other buses (services/events/), and
        # async invoke destinations may now name a bus (invoke/destinations/event_bus.py).
        self.events = EventsEngine(self.store, self.clock)
        self.events.load()
        # Archives (matching events written with their deliveries) and replays (background, resumable): documents.
        self.events_archives = Archives(self.events, self.store, self.clock)
        self.events_archives.load()
        self.events_dispatch = EventsDispatcher(
            self.events,
            {
                "lambda": LambdaFunctionTarget(self.async_invoker.submit_arn),
                "sqs": SqsQueueTarget(self.sqs),
                "sns": SnsTopicTarget(self.sns),
            },
            self.clock,
            lambda_allowed=lambda arn, qualifier, rule: self.policies.allows(
                arn, "events.amazonaws.com", source_arn=rule, qualifier=qualifier
            ),
            # a queue's or topic's policy must let events.amazonaws.com send there (as sns to a queue, above)
            resource_allowed=lambda arn, rule: self._service_refusal(
                "events.amazonaws.com", "sqs:SendMessage" if ":sqs:" in arn else "sns:Publish", arn, rule, strict
            ),
        )
        self.async_invoker.destinations.register("events", EventBusTarget(self.events.put_on_bus))
        self.events_schedules = RuleSchedules(self.events, self.clock)  # ScheduleExpression rules, on the clock
        events_service = bind_service(
            "events", EventsProvider(self.events), ArchiveApi(self.events, self.events_archives)
        )
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
        # Lambda authorizer answers the REST door keeps; FlushStageAuthorizersCache empties them.
        rest_authorizer_results = AuthorizerCache(self.clock)
        apigateway_service = bind_service(
            "apigateway", ApiGatewayProvider(self.apigateway, self.clock, rest_authorizer_results.flush)
        )
        # API Gateway HTTP APIs: one document per API, requests come in by Host (<api-id>.execute-api.localhost).
        self.http_apis = HttpApiEngine(self.store)
        self.http_apis.load()
        http_api_service = bind_service("apigatewayv2", HttpApiProvider(self.http_apis, self.clock))
        # S3: metadata in migration 0005's tables, object bytes in files under <data dir>/s3 (services/s3/storage.py).
        self.s3_store = S3Store(settings.data_dir / "lamina.db", settings.sqlite_synchronous)
        self.s3 = S3Engine(self.s3_store, ObjectFiles(settings.data_dir / "s3"), self.clock, settings.region)
        self.s3.load()
        self.s3_lifecycle = Lifecycle(self.s3, self.clock)
        s3_service = bind_service(
            "s3",
            S3Provider(self.s3),
            MultipartApi(self.s3),
            AclApi(self.s3),  # ACLs, Object Ownership, Block Public Access (s3/acl.py; evaluated by s3/acl_access.py)
            LifecycleApi(self.s3),  # lifecycle rules, applied by self.s3_lifecycle's sweep on the clock
            RestoreApi(self.s3),  # RestoreObject: archived objects readable again for a while
            ObjectTaggingApi(self.s3),  # Get/Put/DeleteObjectTagging
            CorsApi(self.s3),  # Put/Get/DeleteBucketCors, applied by self.s3_cors (s3/cors_door.py)
            EncryptionApi(self.s3),  # default encryption: SSE-S3 unless set (s3/encryption.py)
            body_limits={"PutObject": S3_MAX_OBJECT, "UploadPart": S3_MAX_OBJECT},
            skip_enums=frozenset({"FilterRuleName", "Event"}),  # AWS takes `Prefix`; unknown events: InvalidArgument
            # S3 answers MalformedXML / InvalidRequest for these documents (s3/cors.py, s3/encryption.py)
            service_checked=frozenset({"cORSConfiguration", "serverSideEncryptionConfiguration"}),
        )
        s3_service.admit = presigned_check(self.clock)  # X-Amz-Expires on presigned URLs
        self.s3_cors = S3CorsDoor(self.s3)  # preflight OPTIONS (a door: never signed) and Origin's answer headers
        s3_service.decorate = self.s3_cors.decorate
        # Lambda code from S3 (Code.S3Bucket/S3Key/S3ObjectVersion, layer Content too): the object's bytes.
        self.functions.code_source.objects = self.s3.object_bytes
        self.layers.code_source.objects = self.s3.object_bytes
        # S3 bucket notifications: to queues, topics, functions (async, as s3.amazonaws.com, whose resource policy
        # must allow it) and the default event bus; the outbox is drained after every write (s3/notifications.py).
        s3_queues = SqsQueueTarget(self.sqs)

        async def s3_to_queue(arn: str, message: bytes) -> None:
            try:
                await s3_queues.deliver(Delivery(arn, message, "S3", "", ""))
            except TargetUnavailable as gone:
                raise TargetGone(str(gone)) from None

        async def s3_to_topic(arn: str, message: bytes, subject: str) -> None:
            topic = self.sns.topics.get(arn)
            if topic is None:
                raise TargetGone(f"topic {arn} does not exist")
            await self.sns.publish(topic, self.sns.new_message(arn, message.decode(), subject, {}, None))

        async def s3_to_function(arn: str, message: bytes, trace: str | None) -> None:
            try:
                await self.async_invoker.submit_arn(arn, message, trace)
            except TargetUnavailable as gone:
                raise TargetGone(str(gone)) from None

        def s3_to_bus(region: str, detail_type: str, detail: dict[str, Any], resources: list[str]) -> None:
            bus = f"arn:aws:events:{region}:{settings.account_id}:event-bus/default"
            self.events.put_on_bus(bus, "aws.s3", detail_type, detail, resources)

        def s3_may_invoke(arn: str, bucket_arn: str) -> bool:
            parts = arn.split(":")
            return self.policies.allows(
                ":".join(parts[:7]),
                "s3.amazonaws.com",
                source_arn=bucket_arn,
                source_account=settings.account_id,
                qualifier=parts[7] if len(parts) > 7 else None,
            )

        def s3_refusal(arn: str, bucket_arn: str) -> str | None:
            # the queue's / topic's policy must let s3.amazonaws.com send for this bucket (lenient for one
            # without a policy under --auth none, as for SNS and EventBridge)
            action = "sqs:SendMessage" if arn.split(":")[2] == "sqs" else "sns:Publish"
            return self._service_refusal("s3.amazonaws.com", action, arn, bucket_arn, strict)

        self.s3.notifications.targets = S3Targets(
            send_to_queue=s3_to_queue,
            publish_to_topic=s3_to_topic,
            invoke_async=s3_to_function,
            put_on_default_bus=s3_to_bus,
            queue_exists=lambda arn: self.sqs.by_arn(arn) is not None,
            topic_exists=lambda arn: arn in self.sns.topics,
            may_invoke=s3_may_invoke,
            refusal=s3_refusal,
        )
        # EventBridge Scheduler: schedules and groups are documents; fires go to Lambda (async invoke), SQS and SNS
        # through the callables below, on the project's clock (services/scheduler/engine.py).
        sqs_target, sns_target = SqsQueueTarget(self.sqs), SnsTopicTarget(self.sns)

        async def to_lambda(arn: str, payload: bytes, _attributes: Attributes) -> None:
            await self.async_invoker.submit_arn(arn, payload)

        async def to_sqs(arn: str, payload: bytes, attributes: Attributes) -> None:
            await sqs_target.deliver(Delivery(arn, payload, "Schedule", "scheduler.amazonaws.com", "", attributes))

        async def to_sns(arn: str, payload: bytes, attributes: Attributes) -> None:
            await sns_target.deliver(Delivery(arn, payload, "Schedule", "scheduler.amazonaws.com", "", attributes))

        targets: dict[str, Deliver] = {"lambda": to_lambda, "sqs": to_sqs, "sns": to_sns}
        schedule_delivery = TargetDelivery(targets, self.clock, self.store)
        self.scheduler = SchedulerEngine(self.store, self.clock, schedule_delivery, settings.account_id)
        self.scheduler.load()
        scheduler_service = bind_service("scheduler", SchedulerProvider(self.scheduler, self.clock))
        iam_service = bind_service(
            "iam",
            IamProvider(self.iam),
            IdentitiesApi(self.identities),
            SimulationApi(self._principal_policies, self._permissions_boundary),
        )
        sts_service = bind_service("sts", StsProvider(self.sts))
        # CloudWatch Logs: every function's output (the executor's LogStore writes it in batches off the invoke
        # path) and the logs API over the same tables (migration 0009); subscription filters invoke functions
        # asynchronously as logs.amazonaws.com, which their resource policy must allow.
        self.logs = LogsEngine(self.executor.logs, self.clock, settings.region, settings.account_id)
        self.log_subscriptions = SubscriptionFilters(
            self.logs,
            self.async_invoker.submit_arn,
            lambda arn, group_arn: self.policies.allows(
                ":".join(arn.split(":")[:7]),
                "logs.amazonaws.com",
                source_arn=group_arn,
                qualifier=arn.split(":")[7] if len(arn.split(":")) > 7 else None,
            ),
        )
        self.log_subscriptions.load()
        self.live_tails = LiveTails(self.logs)
        logs_service = bind_service("logs", LogsProvider(self.logs, self.log_subscriptions, self.live_tails))
        # DynamoDB: tables and items in memory, written through to the same database file (migration 0008).
        self.dynamodb = DynamoEngine(
            DynamoStore(settings.data_dir / "lamina.db", settings.sqlite_synchronous),
            self.clock,
            settings.region,
            settings.account_id,
        )
        self.dynamodb.load()
        dynamodb_items = DynamoProvider(self.dynamodb)
        dynamodb_reading = Reading(self.dynamodb)
        dynamodb_batches = Batches(self.dynamodb, dynamodb_items, self.clock)
        dynamodb_service = bind_service(
            "dynamodb",
            dynamodb_items,
            dynamodb_reading,
            dynamodb_batches,
            # PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction): translated to the operations above.
            PartiQL(self.dynamodb, dynamodb_items, dynamodb_reading, dynamodb_batches),
        )
        # DynamoDB Streams: records committed with the item changes; read through the dynamodbstreams API.
        streams_service = bind_service(
            "dynamodbstreams", StreamsProvider(self.dynamodb.tables, self.dynamodb.streams, self.clock)
        )
        # Kinesis Data Streams: streams and records in memory, written through to the same database file
        # (migration 0013, which also holds the stream event source mappings' checkpoints; 0016 their results).
        self.kinesis_store = KinesisStore(settings.data_dir / "lamina.db", settings.sqlite_synchronous)
        self.kinesis = KinesisEngine(self.kinesis_store, self.clock, settings.region, settings.account_id)
        self.kinesis.load()
        # Throughput limits (services/kinesis/limits.py) on the project clock; `--kinesis-limits off` admits all.
        kinesis_limits = Throughput(self.clock, settings.kinesis_limits)
        kinesis_service = bind_service("kinesis", KinesisProvider(self.kinesis, self.clock, kinesis_limits))
        # Stream event source mappings (Kinesis, DynamoDB Streams): pollers read through StreamSource adapters,
        # checkpoints are rows of migration 0013 and LastProcessingResult of 0016, on-failure records go to SQS
        # queues or SNS topics.
        self._stream_sources: dict[str, StreamSource] = {
            "kinesis": KinesisSource(self.kinesis),
            "dynamodb": DynamoStreamSource(self.dynamodb.tables, self.dynamodb.streams),
        }

        async def stream_failure(arn: str, body: bytes, request_id: str) -> None:
            target = sqs_target if arn.startswith("arn:aws:sqs:") else sns_target
            await target.deliver(Delivery(arn, body, "OnFailure", "", request_id))

        self.stream_pollers = StreamPollers(
            self._stream_source, self.kinesis_store, self.functions, gate, stream_failure, self.clock
        )
        self.event_source_mappings.on_change(self.stream_pollers.mapping_changed)
        # LastProcessingResult, as stored (a restart shows the last one)
        self.event_source_mappings.processing_result = self.stream_pollers.last_result
        # CloudFormation: stacks are documents; resources are made through the other services' own operations,
        # called in-process (api/local_calls.py), so a stack's queue is what CreateQueue makes. After the services
        # it provisions (DynamoDB, Logs, events, scheduler, REST and HTTP APIs).
        local_calls = LocalCalls(
            [
                lambda_service,
                sqs_service,
                sns_service,
                iam_service,
                sts_service,
                http_api_service,
                apigateway_service,
                events_service,
                scheduler_service,
                logs_service,
                dynamodb_service,
                s3_service,  # AWS::S3::Bucket/BucketPolicy
                kinesis_service,  # AWS::Kinesis::Stream
            ],
            settings.region,
            settings.account_id,
            lambda: f"http://localhost:{self._public_port()}",
        )
        types = resource_types(self.clock, settings.region)
        self.stacks = StackEngine(self.store, self.clock, local_calls, types, settings.region, settings.account_id)
        self.stacks.load()
        sam_policies = {p["PolicyName"]: arn for arn, p in managed_policies().items()}
        cloudformation_service = bind_service(
            "cloudformation",
            # TemplateURL: the object's bytes from Lamina's S3, the callable Lambda's code source reads too
            CloudFormationProvider(self.stacks, lambda: sam_policies, self.clock, TemplateSource(self.s3.object_bytes)),
        )
        local_calls.add(cloudformation_service)  # AWS::CloudFormation::Stack: nested stacks through CreateStack
        # CloudWatch metrics (CBOR protocol, as botocore speaks it): 1-minute aggregates (migration 0012); the
        # AWS/Lambda namespace from the executor's and the ledger's hooks, counted in memory, flushed every second.
        self.metrics = MetricsEngine(
            MetricTables(settings.data_dir / "lamina.db", settings.sqlite_synchronous), self.clock
        )
        self.lambda_metrics = LambdaMetrics(
            self.metrics, self.clock, self.concurrency.in_use, self.concurrency.unreserved_in_use
        )
        if settings.lambda_metrics:
            self.executor.on_invoked = self.lambda_metrics.invoked
            self.concurrency.on_throttle = self.lambda_metrics.throttled
            self.async_invoker.on_event = self.lambda_metrics.async_event
            self.async_invoker.on_attempt = self.lambda_metrics.async_event_age
            self.concurrency.on_provisioned = self.lambda_metrics.provisioned
            self.stream_pollers.on_batch_age = self.lambda_metrics.iterator_age
        # The AWS/SQS namespace per QueueName: the SQS engine counts through its QueueMetrics hook (in memory,
        # flushed with the rest); the queue depths are read once a minute and before each metric read.
        self.sqs_metrics = SqsMetrics(self.metrics, self.clock, self._sqs_levels)
        self.sqs_metrics.enabled = settings.lambda_metrics
        if settings.lambda_metrics:
            self.sqs.metrics = self.sqs_metrics
        # EMF lines in function output become metrics (a listener of the log writer, like subscription filters).
        self.embedded_metrics = EmbeddedMetrics(self.metrics)
        self.executor.logs.listen(self.embedded_metrics.written)
        # GET /metrics (Prometheus text format): the same counters, read at scrape time.
        self.prometheus = PrometheusExport(
            LaminaCollector(
                self.lambda_metrics,
                self.concurrency.busy_functions,
                self._queue_depths,
                self.executor.environment_states,
                self.executor.reserved_memory_mb,
            )
        )
        # Alarms: documents, evaluated every minute on the clock; actions publish to SNS topics.
        sns_engine = self.sns

        async def alarm_to_sns(topic_arn: str, subject: str, text: str) -> None:
            topic = sns_engine.topics.get(topic_arn)
            if topic is None:
                raise LaminaError(f"topic {topic_arn} does not exist")
            await sns_engine.publish(topic, sns_engine.new_message(topic.arn, text, subject, {}, None))

        self.alarms = Alarms(self.store, self.metrics, self.clock, alarm_to_sns, settings.region, settings.account_id)
        self.alarms.load()
        cloudwatch_providers = (CloudWatchProvider(self.metrics), AlarmsProvider(self.alarms))
        cloudwatch_service = bind_service("cloudwatch", *cloudwatch_providers)  # json: what botocore 1.44 sends
        cloudwatch_service.cbor_twin = bind_service("cloudwatch", *cloudwatch_providers, cbor=True)
        # X-Ray: segments in migration 0014's table. Sampled invocations (TracingConfig Active, or a caller's
        # Sampled=1) get Lambda's own segments from the executor's hook, written by the engine's writer thread; the
        # X-Ray SDK in functions sends its subsegments to the daemon's UDP endpoint (AWS_XRAY_DAEMON_ADDRESS).
        self.traces = TraceEngine(
            TraceTables(settings.data_dir / "lamina.db", settings.sqlite_synchronous), self.clock, settings.account_id
        )
        self.xray_daemon = XrayDaemon(self.traces)
        if settings.tracing:
            self.executor.on_traced = self.traces.traced
        # TracingConfig Active samples by X-Ray's default rule (invoke/sampling.py), or every invocation with
        # --xray-sampling all: the policy every invoke path's trace header follows (invoke/trace_header.py).
        trace_header.use_sampling(DefaultSampling(self.clock) if settings.xray_sampling == "default" else None)
        if settings.otlp_endpoint:
            from lamina.services.xray.otlp_export import OtlpExport  # the OpenTelemetry SDK only when asked for

            self.otlp: OtlpExport | None = OtlpExport(settings.otlp_endpoint)
            self.traces.exporters.append(self.otlp)
        else:
            self.otlp = None
        xray_service = bind_service("xray", XrayProvider(self.traces))
        # --auth sigv4: the gateway verifies every API request's signature (auth/sigv4.py) against the root pair
        # and STS's sessions before routing it; with --auth none nothing changes.
        self.verifier: Verifier | None = None
        authorizer: Authorizer | None = None
        keyring: Keyring | None = None
        if settings.auth == "sigv4":
            s3_access = S3Access(self.s3)
            keyring = Keyring(
                settings.account_id,
                settings.access_key_id,
                settings.secret_access_key,
                [self._session_secret, self._user_secret],
            )
            self.verifier = Verifier(keyring, self.clock.time)
            # ... and evaluates the caller's identity policies for each operation (auth/authorizer.py).
            authorizer = Authorizer(
                settings.account_id,
                self._identity_policies,
                self.clock.time,
                self.resource_policies.decision,
                boundary=self._permissions_boundary,
                user_id=self._user_id,
                acl=s3_access.acl_allows,  # S3 ACL grants, read only when no policy decided
                anonymous=s3_access.anonymous,  # unsigned S3 requests: grants to everyone
                # a bucket, queue or topic policy naming a role session's own ARN: not capped by session policies
                direct_resource_policy=self.resource_policies.direct_decision,
            )
        # The web console (/console/): a client of the services' own operations, called in-process; its saved
        # test events are its only documents (console/test_events.py). Under --auth sigv4 it signs users in with
        # an access key (console/sessions.py) and each call is evaluated by the same authorizer as a signed one.
        console_calls = LocalCalls(
            [lambda_service, logs_service, cloudwatch_service],
            settings.region,
            settings.account_id,
            lambda: f"http://localhost:{self._public_port()}",
            authorizer,
        )

        def console_listing(needle: str, start: int, limit: int, caller: str | None) -> tuple[int, list[Any]]:
            # the function list's page and search in one pass over the names, allowed exactly when ListFunctions is
            console_calls.authorize("lambda", "ListFunctions", {}, caller)
            return self.lambda_provider.function_listing(console_calls.context(), needle, start, limit)

        self.console = ConsoleSite(
            ConsoleApi(
                console_calls,
                console_listing,
                self._code_zip,
                SavedEvents(self.store),
                now=self.clock.time,
                # a tune run calls this server's Lambda API over HTTP, at the address it listens on
                tune_runs=TuneRuns(
                    lambda: f"http://{_reachable(settings.host)}:{self._public_port()}", settings.region
                ),
                # sessions are documents (token digest, no secret): a restart keeps them; tune runs sign in again
                sessions=Sessions(keyring, self.clock.time, store=self.store) if keyring is not None else None,
            )
        )
        self.gateway = Gateway(
            [
                lambda_service,
                sqs_service,
                sns_service,
                events_service,
                elbv2_service,
                apigateway_service,
                http_api_service,
                scheduler_service,
                iam_service,
                sts_service,
                cloudformation_service,
                logs_service,
                dynamodb_service,
                streams_service,
                kinesis_service,
                cloudwatch_service,
                s3_service,
                xray_service,
            ],
            settings.region,
            settings.account_id,
            settings.public_url,
            internal=self._internal,
            space=self.space,
            auth=self.verifier,
            authorizer=authorizer,
        )
        self.gateway.add_door(AlbDoor(self.elbv2, elb_invoker))
        # Both API doors serve <api-id>.execute-api.localhost: the HTTP API door claims only its own ids, the
        # REST door every other (an unknown id gets REST's 403 Missing Authentication Token).
        self.gateway.add_door(HttpApiDoor(self.http_apis, apigateway_invoker, self.clock))
        self.gateway.add_door(
            RestApiDoor(self.apigateway, apigateway_invoker, self.clock, settings.port, rest_authorizer_results)
        )
        url_invoker = ServiceInvoker(self.functions, self.policies, self.invoke_front, "*")
        # AuthType AWS_IAM: the API's verifier under --auth sigv4, else one that knows Lamina's configured pair.
        url_verifier = self.verifier or Verifier(
            Keyring(settings.account_id, settings.access_key_id, settings.secret_access_key), self.clock.time
        )
        signatures = SignatureCheck(url_verifier, settings.account_id)
        url_door = FunctionUrlDoor(
            self.function_urls, url_invoker, self.response_streaming, signatures, self.clock, self._public_port
        )
        self.gateway.add_door(url_door)
        # S3 POST uploads (browser forms): credentials in form fields, so no signed scope routes them (s3/post_door.py).
        self.gateway.add_door(S3PostDoor(self.s3, self.clock, self.verifier, authorizer, settings.region))
        self.gateway.add_door(self.s3_cors)  # after the Lambda and API doors, whose hosts answer their own OPTIONS
        self.s3_cors.other_api = self.gateway.other_api_path
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
        if self.settings.tracing:  # before any environment starts: they are told its address
            await self.xray_daemon.start(self.settings.host, self.settings.port)
            self.executor.xray_daemon = self.xray_daemon.address
        self.traces.start()  # the writer and the retention sweeper
        await self.executor.start()
        if self.settings.function_network == "isolated":
            self.executor.require_network_namespace()  # refused, never quietly on the host's network
        await self.functions.start()
        self.async_invoker.start()
        self.concurrency_controls.start()
        self.event_source_mappings.start()
        self.sqs_moves.start()  # message move tasks a stop (or crash) interrupted
        self.sns.start()  # http/https deliveries a stop interrupted
        self.events_dispatch.start()  # accepted events not yet delivered (before a stop or a crash) go out
        self.events_schedules.start()
        self.events_archives.start()  # retention sweep; replays a stop (or crash) interrupted resume
        self.scheduler.start()  # fires that fell due while stopped fire once now
        self.stacks.start()  # deployments a stop (or crash) interrupted: creations roll back, deletions resume
        self.logs.start()  # the retention sweeper
        self.log_subscriptions.start()
        self.live_tails.start()
        self.dynamodb.start()  # the TTL sweeper
        self.kinesis.start()  # the retention sweeper
        self.metrics.start()  # the flush of buffered points and the retention sweeper
        self.embedded_metrics.start()
        self.alarms.start()  # evaluation every minute
        await self.s3.notifications.deliver()  # notifications a stop (or crash) left in the outbox
        self.s3_lifecycle.start()  # lifecycle rules applied every hour of the clock
        self._server = await serve(
            self.gateway.handle,
            self.settings.host,
            self.settings.port,
            MAX_BODY,
            self.gateway.too_large,
            self.gateway.bad_request,
            self._fast,
            body_cap=self.gateway.body_cap,
            stream_cap=self.gateway.stream_cap,  # S3 object bodies go to disk as they arrive
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
            stream_cap=gateway.stream_cap,
        )

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def _fast(self, request: Request, respond: Callable[[Response], None]) -> bool:
        """The server's fast path: a plain warm Invoke, else a plain warm function URL request. With --auth
        sigv4 the Invoke shortcut takes only requests the root credentials signed; the general path answers
        (and authorizes) every other."""
        if self.verifier is not None and not self._root_signed(request):
            return self.fast_url(request, respond)
        return self.fast_invoke(request, respond) or self.fast_url(request, respond)

    def _root_signed(self, request: Request, any_service: bool = False) -> bool:
        """Whether the root credentials signed `request` (for Lambda, or for whatever service its scope names)."""
        assert self.verifier is not None
        scope = credential_scope(request.headers)
        if scope is None:
            return False
        try:
            return self.verifier.verify(request, scope[1] if any_service else "lambda").principal.endswith(":root")
        except AuthFailure:
            return False

    def _identity_policies(self, caller: str) -> list[dict[str, Any]]:
        """The identity policies of a caller: an IAM user's (with its groups'), an assumed role's."""
        kind, _, rest = caller.split(":", 5)[-1].partition("/")
        if kind == "user":
            return self.identities.user_policies(rest.rsplit("/", 1)[-1])
        if kind == "root":  # root's federated users: whatever their session policies allow
            return [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
        if kind == "assumed-role":
            try:
                role = self.iam.role(rest.split("/", 1)[0])
            except LaminaError:
                return []
            return self.iam.identity_policies(role["Arn"])
        return []

    def _resource_policy_allows(self, caller: str, action: str, resource: str) -> bool:
        """Whether a function's resource policy grants `caller` the action (a session of a role is matched
        as the role, as AWS matches it)."""
        parts = resource.split(":")
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
            return False
        principals = [caller]
        kind, _, rest = caller.split(":", 5)[-1].partition("/")
        if kind == "assumed-role":
            try:
                principals.append(self.iam.role(rest.split("/", 1)[0])["Arn"])
            except LaminaError:
                pass
        qualifier = parts[7] if len(parts) > 7 else None
        try:
            return any(
                self.policies.allows(":".join(parts[:7]), p, action=action, qualifier=qualifier) for p in principals
            )
        except LaminaError:
            return False

    def _queue_policy(self, arn: str) -> str | None:
        queue = self.sqs.by_arn(arn)
        return None if queue is None else queue.attributes.get("Policy") or None

    def _bucket_policy(self, name: str) -> str | None:
        try:
            return self.s3.bucket(name).get("policy") or None
        except LaminaError:
            return None

    def _topic_policy(self, arn: str) -> str | None:
        topic = self.sns.topics.get(arn)
        return None if topic is None else topic.attributes.get("Policy") or None

    def _service_refusal(self, service: str, action: str, resource: str, source_arn: str, strict: bool) -> str | None:
        allowed, why = self.resource_policies.service_allows(service, action, resource, source_arn, strict)
        return None if allowed else why

    def _role_of_session(self, caller: str) -> str | None:
        """arn:aws:sts::<account>:assumed-role/<role>/<session> → the role's ARN."""
        try:
            return str(self.iam.role(caller.split(":", 5)[-1].split("/")[1])["Arn"])
        except (LaminaError, IndexError):
            return None

    def _permissions_boundary(self, caller: str) -> dict[str, Any] | None:
        """The managed policy set as the permissions boundary of an IAM user or of a session's role."""
        kind, _, rest = caller.split(":", 5)[-1].partition("/")
        try:
            if kind == "user":
                holder = self.identities.user(rest.rsplit("/", 1)[-1])
            elif kind == "assumed-role":
                holder = self.iam.role(rest.split("/", 1)[0])
            elif kind == "role":  # the policy simulator's principal
                holder = self.iam.role(rest.rsplit("/", 1)[-1])
            else:
                return None
        except LaminaError:
            return None
        arn = (holder.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if arn is None:
            return None
        found = self.iam.managed_documents([arn])
        return found[0] if found else {"Statement": []}  # a deleted boundary policy allows nothing

    def _user_id(self, caller: str) -> str | None:
        """aws:userid: an IAM user's unique id; a role session's "<role id>:<session name>"."""
        kind, _, rest = caller.split(":", 5)[-1].partition("/")
        try:
            if kind == "user":
                return str(self.identities.user(rest.rsplit("/", 1)[-1])["UserId"])
            if kind == "assumed-role":
                role, _, session = rest.partition("/")
                return f"{self.iam.role(role)['RoleId']}:{session}"
        except LaminaError:
            return None
        return None

    def _principal_policies(self, arn: str) -> list[dict[str, Any]]:
        """The identity policies of an IAM user, group or role by ARN (the policy simulator's principal)."""
        kind, _, rest = arn.split(":", 5)[-1].partition("/")
        name = rest.rsplit("/", 1)[-1]
        if kind == "user":
            self.identities.user(name)  # NoSuchEntity when there is none
            return self.identities.user_policies(name)
        if kind == "group":
            return self.identities.group_policies(name)
        if kind == "role":
            return self.iam.identity_policies(self.iam.role(name)["Arn"])
        raise InvalidParameter(f"Invalid ARN: {arn}")

    def _user_of_key(self, access_key_id: str) -> tuple[str, str] | None:
        found = self.identities.key(access_key_id)
        return None if found is None else (found[0]["Arn"], found[0]["UserId"])

    def _user_secret(self, access_key_id: str) -> Secret | None:
        """An IAM user's access key, for the signature check (Inactive keys are refused there)."""
        found = self.identities.key(access_key_id)
        if found is None:
            return None
        user, key = found
        return Secret(key["SecretAccessKey"], user["Arn"], active=key["Status"] == "Active")

    def _session_secret(self, access_key_id: str) -> Secret | None:
        """The secret of STS credentials (API-issued or an environment's), for the signature check."""
        session = self.sts.session(access_key_id)
        if session is None:
            return None
        scoped = self._session_policies(session.policy, session.policy_arns) if session.scoped else None
        return Secret(
            session.secret_access_key,
            session.arn,
            session.session_token,
            session.expiration,
            True,
            scoped,
            session.federated_by,
        )

    def _session_policies(self, policy: str | None, arns: tuple[str, ...]) -> list[dict[str, Any]]:
        """A session's inline session policy and its managed ones (their default versions now; a deleted one
        allows nothing), parsed."""
        found = [_session_document(policy)] if policy is not None else []
        return found + self.iam.managed_documents(list(arns))

    def _public_port(self) -> int:
        """The port URLs name: the listening one once started (settings may say 0: any free port)."""
        return self.port if self._server is not None else self.settings.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self.scheduler.close()
        await self.stacks.close()
        await self.async_invoker.close()
        await self.concurrency_controls.close()
        await self.event_source_mappings.close()
        await self.sqs_pollers.close()
        await self.stream_pollers.close()
        self.functions.close()
        await self.executor.close()
        await self.events_schedules.close()
        await self.events_archives.close()
        await self.s3_lifecycle.close()
        await self.events_dispatch.close()
        await self.event_queue.close()
        await self.alarms.close()  # notifications being sent go out before SNS stops
        await self.sns.close()
        await self.log_subscriptions.close()
        await self.logs.close()
        await self.sqs_moves.close()
        await self.sqs.close()
        await self.dynamodb.close()
        await self.kinesis.close()
        await self.metrics.close()
        self.xray_daemon.close()
        await self.traces.close()
        if self.otlp is not None:
            self.otlp.shutdown()  # what the batch processor still holds goes out
        await self.sqs_store.close()
        self.s3_store.close()
        self.store.close()

    def _stream_source(self, arn: str) -> StreamSource | None:
        """The StreamSource serving a stream ARN (Kinesis or DynamoDB Streams), None for anything else."""
        return self._stream_sources.get(arn.split(":")[2]) if arn.count(":") >= 5 else None

    def _stream_exists(self, arn: str) -> bool:
        source = self._stream_source(arn)
        return source is not None and source.exists(arn)

    def _known_role(self, arn: str) -> KnownRole | None:
        role = self.iam.role_by_arn(arn)
        if role is None:
            return None
        return KnownRole(role["Arn"], role["RoleName"], role["RoleId"], role["MaxSessionDuration"])

    def _function_role(self, function_arn: str) -> str | None:
        """The execution role of a function ($LATEST's), by its unqualified ARN."""
        try:
            ref = self.functions.resolve(function_arn, self.settings.region, self.settings.account_id)
        except LaminaError:
            return None
        entry = self.functions.lookup(ref)
        return None if entry is None else entry.config.role

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
                "events": "running",
                "elbv2": "running",
                "apigateway": "running",
                "apigatewayv2": "running",
                "s3": "running",
                "scheduler": "running",
                "iam": "running",
                "sts": "running",
                "cloudformation": "running",
                "logs": "running",
                "dynamodb": "running",
                "dynamodbstreams": "running",
                "kinesis": "running",
                "cloudwatch": "running",
                "xray": "running",
            },
            "schedules": self.scheduler.stats(),
            "isolation": self.executor.isolation_report(),
            "asyncInvocations": dict(self.async_invoker.stats),
            "s3Notifications": dict(self.s3.notifications.stats),
            "eventBridge": {
                "pending": len(self.events.pending),
                "delivered": sum(self.events_dispatch.delivered.values()),
                "retried": sum(self.events_dispatch.retried.values()),
                "deadLettered": sum(self.events_dispatch.dead_lettered.values()),
                "dropped": sum(self.events_dispatch.dropped.values()),
                "scheduleFires": self.events_schedules.fired,
            },
            "fastInvokes": self.fast_invoke.taken,
            "fastEventInvokes": self.fast_invoke.events_taken,
            "fastUrlRequests": self.fast_url.taken,
            "recursiveInvocationsDropped": self.loops.stopped,  # events stopped by recursive loop detection
            "streamMappings": {  # IteratorAge (ms) and counters per stream event source mapping
                u: {"iteratorAgeMs": max(p.iterator_age_ms.values(), default=0), **p.stats}
                for u, p in self.stream_pollers.pollers.items()
            },
            "logs": {
                "droppedEvents": self.executor.logs.dropped_events,  # over the writer's queue bound
                "retentionSwept": self.logs.swept_events,
                "subscriptionDeliveries": self.log_subscriptions.delivered,
                "subscriptionFailures": self.log_subscriptions.failed,
                "liveTailSessions": self.live_tails.sessions,
            },
            "metrics": {
                "emfExtractedPoints": self.embedded_metrics.extracted,
                "emfSkippedLines": self.embedded_metrics.skipped,  # malformed or over AWS's limits
                "alarmNotifications": self.alarms.notifications,
                "alarmNotificationFailures": self.alarms.failed_notifications,
                "retentionSweptPoints": self.metrics.swept_points,
            },
            "xray": {**self.traces.stats, **self.xray_daemon.stats, "daemonAddress": self.xray_daemon.address},
        }

    def _code_zip(self, location: str) -> bytes | None:
        """The package a GetFunction Code.Location names, as a GET of that signed URL would return it."""
        url = urlsplit(location)
        query = parse_qs(url.query)
        found = self.lambda_provider.code_path_if_signed(
            url.path.rsplit("/", 1)[-1], query.get("Expires", [""])[0], query.get("Signature", [""])[0]
        )
        return None if found is None else Path(found).read_bytes()

    def _sqs_levels(self, now: float) -> list[tuple[str, int, int, float | None]]:
        return [(q.name, *q.depth(now)) for q in self.sqs.all_queues()]

    def _queue_depths(self) -> list[tuple[str, int, int, int]]:
        now = self.clock.time()
        return [(q.name, *q.counts(now)) for q in self.sqs.all_queues()]

    def _internal(self, request: Request) -> Awaitable[Response] | Response | None:
        path = request.path
        if is_console(request):
            return self.console.handle(request)
        # Prometheus scrapes GET /metrics (no SigV4 scope; never an AWS API path on this port).
        if path == "/metrics" and request.method == "GET" and "authorization" not in request.headers:
            return Response(200, [("Content-Type", PROMETHEUS_TYPE)], self.prometheus.render())
        if request.method == "GET" and path == f"/{self.sns.signer.cert_name}":  # SNS's SigningCertURL
            return Response(200, [("Content-Type", "application/x-x509-ca-cert")], self.sns.signer.cert_pem)
        if not (path.startswith("/_lamina/") or path in ("/health", "/_lamina")):
            return None
        if path in ("/health", "/_lamina/health") and request.method == "GET":
            return Response(200, [("Content-Type", "application/json")], json.dumps(self.health()).encode())
        if path in ("/_lamina/async/pause", "/_lamina/async/resume") and request.method == "POST":
            if self.verifier is not None and not self._root_signed(request, any_service=True):
                return Response(
                    403, [("Content-Type", "application/json")], b'{"message":"Missing Authentication Token"}'
                )
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


def _reachable(host: str) -> str:
    """An address this machine reaches a listener bound to `host` at (a wildcard bind: the loopback)."""
    if host in ("0.0.0.0", "", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
