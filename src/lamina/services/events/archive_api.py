"""The EventBridge archive and replay operations (Create/Describe/List/Update/DeleteArchive, StartReplay,
DescribeReplay, ListReplays, CancelReplay), with AWS's messages (from AWS-validated recordings of these calls)."""

from __future__ import annotations

from typing import Any

from lamina.errors import ServiceFault
from lamina.services.events.archives import Archive, Archives, Replay, archive_arn, replay_arn
from lamina.services.events.engine import EventsEngine
from lamina.services.events.provider import check_pattern, fault, page_of
from lamina.types import CallContext


def _invalid(parameter: str, reason: str) -> ServiceFault:
    return fault("ValidationException", f"Parameter {parameter} is not valid. Reason: {reason}")


class ArchiveApi:
    def __init__(self, engine: EventsEngine, archives: Archives) -> None:
        self._engine = engine
        self._archives = archives

    # -- archives -------------------------------------------------------------------------------
    def _archive(self, ctx: CallContext, name: str) -> Archive:
        found = self._archives.archives.get(archive_arn(ctx.region, ctx.account_id, name))
        if found is None:
            raise fault("ResourceNotFoundException", f"Archive {name} does not exist.")
        return found

    def _source_bus(self, arn: str) -> None:
        if self._engine.bus_by_arn(arn) is None:
            name = arn.rsplit("/", 1)[-1]
            raise fault("ResourceNotFoundException", f"Event bus {name} does not exist.")

    @staticmethod
    def _answer(archive: Archive) -> dict[str, Any]:
        return {"ArchiveArn": archive.arn, "State": archive.state, "CreationTime": archive.created}

    def create_archive(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ArchiveName"]
        arn = archive_arn(ctx.region, ctx.account_id, name)
        if arn in self._archives.archives:
            raise fault("ResourceAlreadyExistsException", f"Archive {name} already exists.")
        self._source_bus(params["EventSourceArn"])
        pattern = params.get("EventPattern")
        if pattern:
            check_pattern(pattern)
        archive = Archive(
            name,
            arn,
            ctx.region,
            ctx.account_id,
            params["EventSourceArn"],
            self._engine.now(),
            pattern or None,
            params.get("Description"),
            int(params.get("RetentionDays") or 0),
        )
        self._archives.save(archive)
        return self._answer(archive)

    def describe_archive(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        archive = self._archive(ctx, params["ArchiveName"])
        out: dict[str, Any] = {"ArchiveArn": archive.arn, "ArchiveName": archive.name}
        out["EventSourceArn"] = archive.source_arn
        if archive.description is not None:
            out["Description"] = archive.description
        if archive.event_pattern:
            out["EventPattern"] = archive.event_pattern
        out["State"] = archive.state
        if archive.state_reason:
            out["StateReason"] = archive.state_reason
        out.update(
            RetentionDays=archive.retention_days,
            SizeBytes=archive.size_bytes,
            EventCount=archive.event_count,
            CreationTime=archive.created,
        )
        return out

    def list_archives(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        source = params.get("EventSourceArn")
        if source:
            self._source_bus(source)
        prefix = params.get("NamePrefix") or ""
        found = sorted(
            (
                a
                for a in self._archives.archives.values()
                if a.region == ctx.region
                and a.account == ctx.account_id
                and a.name.startswith(prefix)
                and (not source or a.source_arn == source)
                and (not params.get("State") or a.state == params["State"])
            ),
            key=lambda a: a.name,
        )
        page, token = page_of(found, params)
        out: dict[str, Any] = {
            "Archives": [
                {
                    "ArchiveName": a.name,
                    "EventSourceArn": a.source_arn,
                    "State": a.state,
                    **({"StateReason": a.state_reason} if a.state_reason else {}),
                    "RetentionDays": a.retention_days,
                    "SizeBytes": a.size_bytes,
                    "EventCount": a.event_count,
                    "CreationTime": a.created,
                }
                for a in page
            ]
        }
        if token:
            out["NextToken"] = token
        return out

    def update_archive(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        archive = self._archive(ctx, params["ArchiveName"])
        pattern = params.get("EventPattern")
        if pattern:
            check_pattern(pattern)
        if "Description" in params:
            archive.description = params["Description"]
        if pattern is not None:
            archive.event_pattern = pattern or None
            archive._parsed = None
        if params.get("RetentionDays") is not None:
            archive.retention_days = int(params["RetentionDays"])
        self._archives.save(archive)
        return self._answer(archive)

    def delete_archive(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._archives.delete(self._archive(ctx, params["ArchiveName"]))

    # -- replays --------------------------------------------------------------------------------
    def _replay(self, ctx: CallContext, name: str) -> Replay:
        found = self._archives.replays.get(replay_arn(ctx.region, ctx.account_id, name))
        if found is None:
            raise fault("ResourceNotFoundException", f"Replay {name} does not exist.")
        return found

    def start_replay(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params["ReplayName"]
        arn = replay_arn(ctx.region, ctx.account_id, name)
        if arn in self._archives.replays:
            raise fault("ResourceAlreadyExistsException", f"Replay {name} already exists.")
        source = params["EventSourceArn"]
        archive = self._archives.archives.get(source)
        if archive is None:
            raise _invalid("EventSourceArn", f"Archive {source.rsplit('/', 1)[-1]} does not exist.")
        start, end = float(params["EventStartTime"]), float(params["EventEndTime"])
        if start >= end:
            raise _invalid("EventEndTime", "EventStartTime must be before EventEndTime.")
        destination = dict(params["Destination"])
        self._source_bus(str(destination.get("Arn", "")))
        if destination["Arn"] != archive.source_arn:
            raise _invalid("Destination.Arn", "Cross event bus replay is not permitted.")
        replay = Replay(
            name,
            arn,
            ctx.region,
            ctx.account_id,
            archive.arn,
            destination,
            start,
            end,
            self._engine.now(),
            params.get("Description"),
        )
        self._archives.start_replay(replay)
        return {"ReplayArn": arn, "State": "STARTING", "ReplayStartTime": replay.started}

    def describe_replay(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        replay = self._replay(ctx, params["ReplayName"])
        out: dict[str, Any] = {"ReplayName": replay.name, "ReplayArn": replay.arn}
        if replay.description is not None:
            out["Description"] = replay.description
        out["State"] = replay.state
        if replay.state_reason:
            out["StateReason"] = replay.state_reason
        out.update(
            EventSourceArn=replay.archive_arn,
            Destination=replay.destination,
            EventStartTime=replay.event_start,
            EventEndTime=replay.event_end,
        )
        return {**out, **self._times(replay)}

    @staticmethod
    def _times(replay: Replay) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if replay.last_replayed is not None and replay.state != "CANCELLING":
            out["EventLastReplayedTime"] = replay.last_replayed
        out["ReplayStartTime"] = replay.started
        if replay.ended is not None:
            out["ReplayEndTime"] = replay.ended
        return out

    def list_replays(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        prefix = params.get("NamePrefix") or ""
        found = sorted(
            (
                r
                for r in self._archives.replays.values()
                if r.region == ctx.region
                and r.account == ctx.account_id
                and r.name.startswith(prefix)
                and (not params.get("State") or r.state == params["State"])
                and (not params.get("EventSourceArn") or r.archive_arn == params["EventSourceArn"])
            ),
            key=lambda r: r.name,
        )
        page, token = page_of(found, params)
        replays = []
        for r in page:
            item: dict[str, Any] = {"ReplayName": r.name, "EventSourceArn": r.archive_arn, "State": r.state}
            if r.state_reason:
                item["StateReason"] = r.state_reason
            item.update(EventStartTime=r.event_start, EventEndTime=r.event_end, **self._times(r))
            replays.append(item)
        out: dict[str, Any] = {"Replays": replays}
        if token:
            out["NextToken"] = token
        return out

    def cancel_replay(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        replay = self._replay(ctx, params["ReplayName"])
        if replay.state not in ("STARTING", "RUNNING"):
            raise fault("IllegalStatusException", f"Replay {replay.name} is not in a valid state for this operation.")
        self._archives.cancel(replay)
        return {"ReplayArn": replay.arn, "State": "CANCELLING"}
