"""Event source mappings for SQS queues (spec/lambda-api.md §12): durable records, AWS's validation and
state machine. Pollers (lamina/sources) follow the records through `on_change` listeners.

States: a new mapping is `Creating` (or `Disabled` when created with Enabled=false); an update is
`Updating` (`Enabling`/`Disabling` when it flips Enabled); after `SETTLE_S` the mapping settles in
`Enabled` or `Disabled`. Update/Delete during Creating/Updating answer ResourceInUseException. Delete
answers the mapping with State `Deleting` and removes it once settled. A restart settles every
transitional state at once.
"""

from __future__ import annotations

import asyncio
import uuid as uuids
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from lamina.clock import Clock
from lamina.errors import Conflict, InvalidParameter, NotFound, ResourceInUse
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef
from lamina.services.sqs.engine import SqsEngine
from lamina.sources import patterns
from lamina.store.documents import DocumentStore

KIND = "event-source-mapping"
SETTLE_S = 0.3
MAX_FILTERS = 5
MAX_LIST = 100
NOT_FOUND = "The resource you requested does not exist."
INVALID_FILTER = "Invalid filter pattern definition."
WINDOW_NEEDED = "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
NO_QUEUE = (
    "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
    "SQS Error Message: The specified queue does not exist."
)
# Lambda's HTTP 400 body {"Type":"User","Message":"Cannot update the event source mapping because it is in
# use."} as a client matched it (github.com/thiagoesteves/aws_sse_sqs, include/message.hrl); the delete
# wording is quoted from real runs in public code (a boto3 traceback "An error occurred
# (ResourceInUseException) when calling the DeleteEventSourceMapping operation: Cannot delete the event source
# mapping because it is in use.", and real-AWS sweep logs). Neither names the state.
UPDATE_IN_USE = "Cannot update the event source mapping because it is in use."
DELETE_IN_USE = "Cannot delete the event source mapping because it is in use."
# AWS's SQS parameter table: "Batching window is not supported for FIFO queues" (services-sqs-parameters.html);
# Lambda's message for it, relayed by CloudFormation in aws/aws-lambda-dotnet#1758 (BatchSize 100 with a 5 s
# window on a .fifo queue): "Invalid request provided: Batching window is not supported for FIFO queues
# (Service: Lambda, Status Code: 400, ...)". FIFO's BatchSize maximum of 10 then needs no message of its own:
# above 10 AWS requires a window (WINDOW_NEEDED), and a FIFO queue may not have one.
FIFO_WINDOW = "Batching window is not supported for FIFO queues"
NO_RECORDS = "No records processed"  # a stream mapping's LastProcessingResult before its first batch
TRANSITIONAL = frozenset({"Creating", "Enabling", "Disabling", "Updating", "Deleting"})


@dataclass(frozen=True)
class Mapping:
    uuid: str
    region: str
    account: str
    source_arn: str
    function_arn: str  # as mapped: qualified when a version or alias was named
    batch_size: int
    window: int
    enabled: bool
    state: str
    last_modified: float
    response_types: list[str] = field(default_factory=list)
    filters: list[str] | None = None  # the pattern strings
    max_concurrency: int | None = None
    # The rest of what botocore's model (1.44) takes for an SQS mapping: MetricsConfig {"Metrics": [...]},
    # ProvisionedPollerConfig {"MinimumPollers", "MaximumPollers"} (SQS supports provisioned mode: "Lambda
    # parameters for Amazon SQS event source mappings"), KMSKeyArn (encrypts the filter criteria on AWS;
    # Lamina has no KMS, so FilterCriteriaError never appears) and Tags (not part of the response; ListTags).
    metrics: list[str] | None = None
    pollers: dict[str, int] | None = None
    kms_key_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # Stream sources (Kinesis, DynamoDB Streams; sources/stream_poller.py): AWS's stream-only settings.
    starting_position: str | None = None
    starting_timestamp: float | None = None
    parallelization: int = 1
    bisect: bool = False
    max_retries: int = -1  # -1: until the record expires
    max_record_age: int = -1
    on_failure: str | None = None  # DestinationConfig.OnFailure.Destination (an SQS queue or SNS topic ARN)
    tumbling: int = 0

    @property
    def stream(self) -> bool:
        return is_stream(self.source_arn)

    @property
    def provisioned(self) -> tuple[int, int] | None:
        """(MinimumPollers, MaximumPollers) in provisioned mode, with AWS's SQS defaults 2 and 200."""
        if self.pollers is None:
            return None
        return self.pollers.get("MinimumPollers", 2), self.pollers.get("MaximumPollers", 200)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:event-source-mapping:{self.uuid}"

    @property
    def fifo(self) -> bool:
        return self.source_arn.endswith(".fifo")

    def to_api(self, last_result: str | None = None) -> dict[str, Any]:
        """`last_result`: a stream mapping's LastProcessingResult (its pollers keep it; None before any batch)."""
        if self.stream:
            return self._stream_api(last_result or NO_RECORDS)
        out: dict[str, Any] = {
            "UUID": self.uuid,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.window,
            "EventSourceArn": self.source_arn,
            "FunctionArn": self.function_arn,
            "LastModified": self.last_modified,
            "State": self.state,
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": list(self.response_types),
            "EventSourceMappingArn": self.arn,
        }
        if self.filters is not None:
            out["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in self.filters]}
        if self.max_concurrency is not None:
            out["ScalingConfig"] = {"MaximumConcurrency": self.max_concurrency}
        if self.metrics is not None:
            out["MetricsConfig"] = {"Metrics": list(self.metrics)}
        if self.pollers is not None:
            out["ProvisionedPollerConfig"] = dict(self.pollers)
        if self.kms_key_arn:
            out["KMSKeyArn"] = self.kms_key_arn
        return out

    def _stream_api(self, last_result: str) -> dict[str, Any]:
        """A stream mapping as AWS answers it (the recorded test_lambda_integration_kinesis entries)."""
        on_failure = {"Destination": self.on_failure} if self.on_failure else {}
        out: dict[str, Any] = {
            "UUID": self.uuid,
            "StartingPosition": self.starting_position,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.window,
            "ParallelizationFactor": self.parallelization,
            "EventSourceArn": self.source_arn,
            "FunctionArn": self.function_arn,
            "LastModified": self.last_modified,
            "LastProcessingResult": last_result,
            "State": self.state,
            "StateTransitionReason": "User action",
            "DestinationConfig": {"OnFailure": on_failure},
            "MaximumRecordAgeInSeconds": self.max_record_age,
            "BisectBatchOnFunctionError": self.bisect,
            "MaximumRetryAttempts": self.max_retries,
            "TumblingWindowInSeconds": self.tumbling,
            "FunctionResponseTypes": list(self.response_types),
            "EventSourceMappingArn": self.arn,
        }
        if self.starting_timestamp is not None:
            out["StartingPositionTimestamp"] = self.starting_timestamp
        if self.filters is not None:
            out["FilterCriteria"] = {"Filters": [{"Pattern": p} for p in self.filters]}
        if self.metrics is not None:
            out["MetricsConfig"] = {"Metrics": list(self.metrics)}
        return out

    def to_doc(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Mapping:
        return cls(**doc)


Listener = Callable[[Mapping | None, str], None]


def is_stream(arn: str) -> bool:
    """A Kinesis stream or a DynamoDB stream ARN (the sources with shards, positions and checkpoints)."""
    return arn.startswith("arn:aws:kinesis:") or (arn.startswith("arn:aws:dynamodb:") and "/stream/" in arn)


def _metrics(config: Any) -> list[str] | None:
    """MetricsConfig; an empty one (or an empty Metrics list) removes it, as for ScalingConfig."""
    metrics = config.get("Metrics") if isinstance(config, dict) else None
    return list(metrics) if metrics else None


def _pollers(config: Any) -> dict[str, int] | None:
    """ProvisionedPollerConfig as given (its ranges are the model's); an empty one returns to on-demand."""
    if not isinstance(config, dict):
        return None
    kept = {k: int(config[k]) for k in ("MinimumPollers", "MaximumPollers") if config.get(k) is not None}
    return kept or None


def _stream_changes(params: dict[str, Any]) -> dict[str, Any]:
    """What an UpdateEventSourceMapping changes of a stream mapping's own settings."""
    changes: dict[str, Any] = {}
    if params.get("DestinationConfig") is not None:
        changes["on_failure"] = (params["DestinationConfig"].get("OnFailure") or {}).get("Destination") or None
    if params.get("ParallelizationFactor") is not None:
        changes["parallelization"] = params["ParallelizationFactor"]
    if params.get("BisectBatchOnFunctionError") is not None:
        changes["bisect"] = bool(params["BisectBatchOnFunctionError"])
    if params.get("MaximumRetryAttempts") is not None:
        changes["max_retries"] = int(params["MaximumRetryAttempts"])
    if params.get("MaximumRecordAgeInSeconds") is not None:
        changes["max_record_age"] = int(params["MaximumRecordAgeInSeconds"])
    if params.get("TumblingWindowInSeconds") is not None:
        changes["tumbling"] = int(params["TumblingWindowInSeconds"])
    return changes


def _or_unlimited(value: Any) -> int:
    return -1 if value is None else int(value)


class EventSourceMappings:
    def __init__(
        self,
        store: DocumentStore,
        functions: FunctionService,
        sqs: SqsEngine,
        clock: Clock,
        stream_exists: Callable[[str], bool] | None = None,
    ) -> None:
        self._stream_exists = stream_exists or (lambda arn: False)
        self._store = store
        self._functions = functions
        self._sqs = sqs
        self._clock = clock
        self._mappings: dict[str, Mapping] = {}
        self._listeners: list[Listener] = []
        # A stream mapping's LastProcessingResult, from its pollers, who store it (app.py sets it to
        # StreamPollers.last_result).
        self.processing_result: Callable[[str], str | None] = lambda uuid: None
        self._tasks: set[asyncio.Task[None]] = set()

    def api(self, mapping: Mapping) -> dict[str, Any]:
        """The mapping as the Lambda API answers it, with what its pollers last reported."""
        return mapping.to_api(self.processing_result(mapping.uuid))

    def on_change(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def load(self) -> None:
        """Loads the mappings, settling whatever a stop left in a transitional state."""
        for key, doc in self._store.load(KIND).items():
            mapping = Mapping.from_doc(doc)
            if mapping.state == "Deleting":
                self._store.delete(KIND, key)
                continue
            if mapping.state in TRANSITIONAL:
                mapping = replace(mapping, state="Enabled" if mapping.enabled else "Disabled")
                self._store.put(KIND, key, mapping.to_doc())
            self._mappings[mapping.uuid] = mapping

    def start(self) -> None:
        for mapping in list(self._mappings.values()):
            self._notify(mapping)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    def all(self) -> list[Mapping]:
        return list(self._mappings.values())

    # -- validation -------------------------------------------------------------------------------
    def _function(self, name: str, region: str, account: str) -> tuple[FunctionRef, str, int]:
        ref = self._functions.resolve(name, region, account)
        try:
            config = self._functions.config(ref)
        except NotFound:
            raise InvalidParameter("Function does not exist", Type="User") from None
        return ref, ref.qualified_arn if ref.qualifier else ref.arn, config.timeout

    def _check_visibility(self, source: str, function_timeout: int) -> None:
        """AWS refuses a queue whose visibility timeout is shorter than the function's timeout: 400
        InvalidParameterValueException, Type User, "Queue visibility timeout: 60 seconds is less than Function
        timeout: 180 seconds" (github-aws-runners/terraform-aws-github-runner#465, the SDK's dump of it)."""
        queue = self._sqs.by_arn(source)
        if queue is None:
            raise InvalidParameter(NO_QUEUE, Type="User")
        visibility = queue.setting("VisibilityTimeout")
        if visibility < function_timeout:
            raise InvalidParameter(
                f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
                f"{function_timeout} seconds",
                Type="User",
            )

    @staticmethod
    def _filters(criteria: Any) -> list[str] | None:
        if criteria is None:
            return None
        filters = criteria.get("Filters") if isinstance(criteria, dict) else None
        if filters is None:
            return None
        if len(filters) > MAX_FILTERS:
            # AWS documents an error here ("If you attempt to add more filters than your current quota
            # permits, Lambda will return an error", invocation-eventfiltering.html) but no public record of
            # its wording was found: this message is Lamina's, unverified.
            raise InvalidParameter(
                f"Number of filters exceeds the limit of {MAX_FILTERS} for this event source mapping.", Type="User"
            )
        out = []
        for f in filters:
            try:
                patterns.check(f.get("Pattern"))
            except patterns.InvalidPattern:
                raise InvalidParameter(INVALID_FILTER, Type="User") from None
            out.append(f["Pattern"])
        return out

    def _check_sizes(self, mapping: Mapping) -> None:
        if mapping.fifo and mapping.window > 0:
            raise InvalidParameter(FIFO_WINDOW, Type="User")
        if mapping.batch_size > 10 and mapping.window < 1:
            raise InvalidParameter(WINDOW_NEEDED, Type="User")

    # -- operations -------------------------------------------------------------------------------
    def create(self, region: str, account: str, params: dict[str, Any]) -> Mapping:
        source = params.get("EventSourceArn")
        if source and is_stream(source):
            return self._create_stream(region, account, source, params)
        if not source or not source.startswith("arn:aws:sqs:"):
            raise InvalidParameter("Unrecognized event source.", Type="User")
        if params.get("DestinationConfig"):  # checked before the function lookup, as AWS orders them
            raise InvalidParameter(
                "Unsupported DestinationConfig parameter for given event source mapping type.", Type="User"
            )
        ref, function_arn, function_timeout = self._function(params["FunctionName"], region, account)
        if params.get("StartingPosition") is not None:
            # recorded from AWS for a DynamoDB stream ARN (test_create_event_source_validation); the same
            # template is assumed for a queue ARN.
            raise InvalidParameter(f"Unsupported starting position for arn type: {source}", Type="User")
        self._check_visibility(source, function_timeout)
        enabled = params.get("Enabled")
        enabled = True if enabled is None else bool(enabled)
        scaling = params.get("ScalingConfig") or {}
        mapping = Mapping(
            uuid=str(uuids.uuid4()),
            region=region,
            account=account,
            source_arn=source,
            function_arn=function_arn,
            batch_size=params.get("BatchSize") or 10,
            window=params.get("MaximumBatchingWindowInSeconds") or 0,
            enabled=enabled,
            state="Creating" if enabled else "Disabled",
            last_modified=self._clock.time(),
            response_types=list(params.get("FunctionResponseTypes") or []),
            filters=self._filters(params.get("FilterCriteria")),
            max_concurrency=scaling.get("MaximumConcurrency"),
            metrics=_metrics(params.get("MetricsConfig")),
            pollers=_pollers(params.get("ProvisionedPollerConfig")),
            kms_key_arn=params.get("KMSKeyArn") or None,
            tags=dict(params.get("Tags") or {}),
        )
        self._check_sizes(mapping)
        for other in self._mappings.values():
            if other.source_arn == source and other.function_arn == function_arn:
                raise Conflict(
                    f'An event source mapping with SQS arn (" {source} ") and function (" {ref.name} ") already '
                    f"exists. Please update or delete the existing mapping with UUID {other.uuid}",
                    Type="User",
                )
        self._put(mapping)
        if mapping.state == "Creating":
            self._settle(mapping)
        return mapping

    def _create_stream(self, region: str, account: str, source: str, params: dict[str, Any]) -> Mapping:
        """A Kinesis or DynamoDB stream mapping: AWS's defaults (BatchSize 100, retries and record age -1
        meaning unlimited) and its checks in its order."""
        ref, function_arn, _ = self._function(params["FunctionName"], region, account)
        if not self._stream_exists(source):
            raise InvalidParameter(f"Stream not found: {source}", Type="User")  # the recorded AWS answer
        position = params.get("StartingPosition")
        if position is None:
            # Lamina's wording: no recorded AWS answer for a stream mapping without a starting position
            raise InvalidParameter("StartingPosition is required for stream event sources.", Type="User")
        if position == "AT_TIMESTAMP" and not source.startswith("arn:aws:kinesis:"):
            raise InvalidParameter(f"Unsupported starting position for arn type: {source}", Type="User")
        stamp = params.get("StartingPositionTimestamp")
        if position == "AT_TIMESTAMP" and stamp is None:
            raise InvalidParameter("StartingPositionTimestamp must be provided for AT_TIMESTAMP.", Type="User")
        on_failure = ((params.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if on_failure and not (on_failure.startswith("arn:aws:sqs:") or on_failure.startswith("arn:aws:sns:")):
            raise InvalidParameter("Unsupported DestinationConfig parameter for given event source mapping type.")
        enabled = params.get("Enabled")
        enabled = True if enabled is None else bool(enabled)
        mapping = Mapping(
            uuid=str(uuids.uuid4()),
            region=region,
            account=account,
            source_arn=source,
            function_arn=function_arn,
            batch_size=params.get("BatchSize") or 100,
            window=params.get("MaximumBatchingWindowInSeconds") or 0,
            enabled=enabled,
            state="Creating" if enabled else "Disabled",
            last_modified=self._clock.time(),
            response_types=list(params.get("FunctionResponseTypes") or []),
            filters=self._filters(params.get("FilterCriteria")),
            metrics=_metrics(params.get("MetricsConfig")),
            tags=dict(params.get("Tags") or {}),
            starting_position=position,
            starting_timestamp=float(stamp) if stamp is not None else None,
            parallelization=params.get("ParallelizationFactor") or 1,
            bisect=bool(params.get("BisectBatchOnFunctionError")),
            max_retries=_or_unlimited(params.get("MaximumRetryAttempts")),
            max_record_age=_or_unlimited(params.get("MaximumRecordAgeInSeconds")),
            on_failure=on_failure or None,
            tumbling=params.get("TumblingWindowInSeconds") or 0,
        )
        for other in self._mappings.values():
            if other.source_arn == source and other.function_arn == function_arn:
                raise Conflict(
                    f'The event source arn (" {source} ") and function (" {ref.name} ") provided mapping already '
                    f"exists. Please update or delete the existing mapping with UUID {other.uuid}",
                    Type="User",
                )
        self._put(mapping)
        if mapping.state == "Creating":
            self._settle(mapping)
        return mapping

    def get(self, uuid: str) -> Mapping:
        mapping = self._mappings.get(uuid)
        if mapping is None:
            raise NotFound(NOT_FOUND, Type="User")
        return mapping

    def _check_idle(self, mapping: Mapping) -> None:
        if mapping.state in ("Creating", "Updating", "Enabling", "Disabling", "Deleting"):
            raise ResourceInUse(UPDATE_IN_USE, Type="User")

    def update(self, uuid: str, params: dict[str, Any]) -> Mapping:
        mapping = self.get(uuid)
        self._check_idle(mapping)
        changes: dict[str, Any] = {}
        if params.get("FunctionName"):
            _, changes["function_arn"], function_timeout = self._function(
                params["FunctionName"], mapping.region, mapping.account
            )
            if not mapping.stream:
                self._check_visibility(mapping.source_arn, function_timeout)
        if mapping.stream:
            changes.update(_stream_changes(params))
        elif params.get("DestinationConfig"):
            raise InvalidParameter(
                "Unsupported DestinationConfig parameter for given event source mapping type.", Type="User"
            )
        if params.get("BatchSize") is not None:
            changes["batch_size"] = params["BatchSize"]
        if params.get("MaximumBatchingWindowInSeconds") is not None:
            changes["window"] = params["MaximumBatchingWindowInSeconds"]
        if params.get("FunctionResponseTypes") is not None:
            changes["response_types"] = list(params["FunctionResponseTypes"])
        if "FilterCriteria" in params:
            changes["filters"] = self._filters(params["FilterCriteria"])
        if params.get("ScalingConfig") is not None:
            changes["max_concurrency"] = params["ScalingConfig"].get("MaximumConcurrency")
        if params.get("MetricsConfig") is not None:
            changes["metrics"] = _metrics(params["MetricsConfig"])
        if params.get("ProvisionedPollerConfig") is not None:
            changes["pollers"] = _pollers(params["ProvisionedPollerConfig"])
        if params.get("KMSKeyArn") is not None:
            changes["kms_key_arn"] = params["KMSKeyArn"] or None  # "" removes it (the model's pattern allows it)
        state = "Updating"
        if params.get("Enabled") is not None:
            enabled = bool(params["Enabled"])
            if enabled != mapping.enabled:
                state = "Enabling" if enabled else "Disabling"
            changes["enabled"] = enabled
        updated = replace(mapping, **changes, state=state, last_modified=self._clock.time())
        if not updated.stream:
            self._check_sizes(updated)
        self._put(updated)
        self._settle(updated)
        return updated

    def delete(self, uuid: str) -> Mapping:
        mapping = self.get(uuid)
        if mapping.state in ("Creating", "Updating"):
            raise ResourceInUse(DELETE_IN_USE, Type="User")
        deleting = replace(mapping, state="Deleting")
        self._mappings[uuid] = deleting
        self._store.delete(KIND, uuid)
        self._notify(deleting)  # pollers stop at once
        self._settle(deleting)
        return deleting

    def list(
        self, source: str | None, function: str | None, region: str, account: str, marker: str | None, limit: int | None
    ) -> tuple[list[Mapping], str | None]:
        found = [m for m in self._mappings.values() if m.region == region and m.account == account]
        if source:
            found = [m for m in found if m.source_arn == source]
        if function:
            ref = self._functions.resolve(function, region, account)
            arn = ref.qualified_arn if ref.qualifier else ref.arn
            found = [
                m
                for m in found
                if m.function_arn == arn or (not ref.qualifier and m.function_arn.startswith(arn + ":"))
            ]
        found.sort(key=lambda m: (m.last_modified, m.uuid))
        start = 0
        if marker:
            for i, m in enumerate(found):
                if m.uuid == marker:
                    start = i
                    break
        size = min(limit or MAX_LIST, MAX_LIST)
        page = found[start : start + size]
        rest = found[start + size :]
        return page, rest[0].uuid if rest else None

    # -- tags (TagResource/UntagResource/ListTags on an event-source-mapping ARN) ----------------------
    def by_arn(self, arn: str) -> Mapping:
        uuid = arn.rsplit(":", 1)[-1]
        mapping = self._mappings.get(uuid)
        if mapping is None or mapping.arn != arn or mapping.state == "Deleting":
            # the recorded AWS answer (test_tag_exceptions[event_source_mapping]): 404 with this message
            raise NotFound(f"Event source mapping not found: {arn}", Type="User")
        return mapping

    def tags(self, arn: str) -> dict[str, str]:
        return dict(self.by_arn(arn).tags)

    def tag(self, arn: str, tags: dict[str, str]) -> None:
        mapping = self.by_arn(arn)
        self._put(replace(mapping, tags={**mapping.tags, **tags}))

    def untag(self, arn: str, keys: Iterable[str]) -> None:
        mapping = self.by_arn(arn)
        gone = set(keys)
        self._put(replace(mapping, tags={k: v for k, v in mapping.tags.items() if k not in gone}))

    # -- internals --------------------------------------------------------------------------------
    def _put(self, mapping: Mapping) -> None:
        self._mappings[mapping.uuid] = mapping
        self._store.put(KIND, mapping.uuid, mapping.to_doc())

    def _notify(self, mapping: Mapping | None, uuid: str | None = None) -> None:
        for listener in self._listeners:
            listener(mapping, uuid or (mapping.uuid if mapping else ""))

    def _settle(self, mapping: Mapping) -> None:
        task = asyncio.get_running_loop().create_task(self._finish(mapping))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish(self, mapping: Mapping) -> None:
        await self._clock.sleep(SETTLE_S)
        current = self._mappings.get(mapping.uuid)
        if current is None or current.state != mapping.state or current.last_modified != mapping.last_modified:
            return
        if mapping.state == "Deleting":
            del self._mappings[mapping.uuid]
            self._notify(None, mapping.uuid)
            return
        # From the current record: what changed meanwhile without a new state (tags) must survive.
        settled = replace(current, state="Enabled" if current.enabled else "Disabled")
        self._put(settled)
        self._notify(settled)
