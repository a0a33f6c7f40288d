"""The Lambda API provider: one method per operation, named as the operation in snake_case.

Thin by design: turn the parsed request into calls on the control plane (functions/) or the data
plane (invoke/) and shape the result as the operation's output. No HTTP here.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

from lamina.config import Settings
from lamina.errors import AccessDenied, InvalidParameter, NotFound
from lamina.functions import package
from lamina.functions.code_signing import CodeSigningConfigs
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef
from lamina.functions.record import FunctionConfig
from lamina.functions.releases import Releases
from lamina.services.lambda_.invocation import InvokeFront
from lamina.types import CallContext

MAX_LIST = 50
CODE_URL_TTL = 600  # AWS's presigned code URLs are valid for 10 minutes
TOTAL_CODE_SIZE = 80_530_636_800


class LambdaProvider:
    def __init__(
        self,
        settings: Settings,
        functions: FunctionService,
        releases: Releases,
        url_secret: bytes,
        invoker: InvokeFront,
        code_signing: CodeSigningConfigs,
        role_check: Callable[[str], bool] | None = None,
    ) -> None:
        self._settings = settings
        # --strict-iam: whether a role ARN names an IAM role Lambda may assume (None: every role is accepted)
        self._role_check = role_check
        self._functions = functions
        self._releases = releases
        self._secret = url_secret
        self.invoke = invoker.invoke
        self._code_signing = code_signing

    def _ref(self, ctx: CallContext, params: dict[str, Any]) -> FunctionRef:
        return self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id, params.get("Qualifier"))

    # -- functions ------------------------------------------------------------------------------
    async def create_function(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        try:
            ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        except AccessDenied:
            raise AccessDenied("") from None  # AWS answers a create in another account with no message
        self._check_role(params.get("Role"))
        self._check_signature(params.get("CodeSigningConfigArn"), ref)
        config = await self._functions.create(ref, params)
        if params.get("Publish"):
            # AWS answers with version 1's number and revision, but the unqualified ARN (recorded).
            version = self._releases.snapshot(self._functions.entry(ref), None, pending=True)
            return version.to_api(arn=version.arn)
        return config.to_api()

    def _check_signature(self, code_signing_config_arn: str | None, ref: FunctionRef) -> None:
        """The deployment check of the function's code signing config (functions/code_signing.py)."""
        self._code_signing.check_deployment(code_signing_config_arn, ref.name)

    def get_function(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._ref(ctx, params)
        config = self._functions.config(ref)
        entry = self._functions.entry(ref)
        out: dict[str, Any] = {
            "Configuration": self._shown(config, ref),
            "Code": {"RepositoryType": "S3", "Location": self.code_url(ctx.base_url, config.code_digest)},
        }
        if entry.tags:
            out["Tags"] = dict(entry.tags)
        if entry.reserved_concurrency is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": entry.reserved_concurrency}
        return out

    def get_function_configuration(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._ref(ctx, params)
        return self._shown(self._functions.config(ref), ref)

    @staticmethod
    def _shown(config: FunctionConfig, ref: FunctionRef) -> dict[str, Any]:
        """Read by alias, FunctionArn is the alias's ARN; read as explicit $LATEST, it ends in `:$LATEST`."""
        return config.to_api(arn=ref.qualified_arn if ref.qualifier and not ref.qualifier.isdigit() else None)

    def list_functions(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        configs: list[FunctionConfig] = []
        every_version = params.get("FunctionVersion") == "ALL"
        for entry in self._functions.functions(ctx.region):
            configs.append(entry.config)
            if every_version:
                configs.extend(entry.versions[n] for n in sorted(entry.versions, key=int))
        marker = params.get("Marker")
        start = 0
        if marker:
            keys = [f"{c.name}:{c.version}" for c in configs]
            start = next((i for i, k in enumerate(keys) if k >= marker), len(keys))
        size = min(params.get("MaxItems") or MAX_LIST, MAX_LIST)
        page = configs[start : start + size]
        out: dict[str, Any] = {
            "Functions": [
                c.to_api(listing=True, arn=f"{c.arn}:$LATEST" if every_version and c.version == "$LATEST" else None)
                for c in page
            ]
        }
        if start + size < len(configs):
            following = configs[start + size]
            out["NextMarker"] = f"{following.name}:{following.version}"
        return out

    def function_listing(
        self, ctx: CallContext, needle: str, start: int, limit: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """ListFunctions' $LATEST entries whose name contains `needle` (any case), `limit` of them from the
        `start`th, and how many matched: the console's list page and search in one pass over the names instead
        of ListFunctions page by page (issue 18). Not a wire operation; the caller authorizes it as
        ListFunctions. Same order and entries as ListFunctions."""
        needle = needle.lower()
        entries = self._functions.functions(ctx.region)
        if needle:
            entries = [e for e in entries if needle in e.config.name.lower()]
        return len(entries), [e.config.to_api(listing=True) for e in entries[start : start + limit]]

    async def update_function_code(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        self._check_signature(self._functions.entry(ref).code_signing_config_arn, ref)
        updated = await self._functions.update_code(ref, params)
        if params.get("Publish") and not params.get("DryRun"):
            return self._releases.snapshot(self._functions.entry(ref), None, pending=True).to_api()
        return updated.to_api()

    def update_function_configuration(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        if params.get("Role") is not None:
            self._functions.entry(ref)  # a missing function is reported before its role
            self._check_role(params["Role"])
        return self._functions.update_configuration(ref, params).to_api()

    def _check_role(self, role: str | None) -> None:
        if role is not None and self._role_check is not None and not self._role_check(role):
            raise InvalidParameter("The role defined for the function cannot be assumed by Lambda.", Type="User")

    def delete_function(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        self._functions.delete(self._ref(ctx, params))
        return {"StatusCode": 204}

    # -- versions and aliases -------------------------------------------------------------------
    def publish_version(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        return self._releases.publish(ref, params).to_api()

    def list_versions_by_function(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        return self._releases.list_versions(ref, params.get("Marker"), params.get("MaxItems"))

    def create_alias(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        return self._releases.create_alias(ref, params).to_api()

    def get_alias(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        return self._releases.get_alias(ref, params["Name"]).to_api()

    def update_alias(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        return self._releases.update_alias(ref, params["Name"], params).to_api()

    def delete_alias(self, ctx: CallContext, params: dict[str, Any]) -> None:
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        self._releases.delete_alias(ref, params["Name"])

    def list_aliases(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = self._functions.resolve(params["FunctionName"], ctx.region, ctx.account_id)
        return self._releases.list_aliases(
            ref, params.get("FunctionVersion"), params.get("Marker"), params.get("MaxItems")
        )

    # -- tags -----------------------------------------------------------------------------------
    def _tag_ref(self, ctx: CallContext, resource: str) -> FunctionRef:
        """A function's ARN (event source mappings' tags are served by tags_api.py)."""
        if ":function:" not in resource:
            raise NotFound("The resource you requested does not exist.", Type="User")
        return self._functions.resolve(resource, ctx.region, ctx.account_id)

    def tag_resource(self, ctx: CallContext, params: dict[str, Any]) -> None:
        tags = params.get("Tags") or {}
        if not tags:
            raise InvalidParameter("An error occurred and the request cannot be processed.", Type="User")
        self._functions.tag(self._tag_ref(ctx, params["Resource"]), tags)

    def untag_resource(self, ctx: CallContext, params: dict[str, Any]) -> None:
        self._functions.untag(self._tag_ref(ctx, params["Resource"]), params["TagKeys"])

    def list_tags(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"Tags": self._functions.tags(self._tag_ref(ctx, params["Resource"]))}

    # -- account --------------------------------------------------------------------------------
    def get_account_settings(self, ctx: CallContext, params: dict[str, Any]) -> dict[str, Any]:
        entries = [e for e in self._functions.all_entries() if e.config.region == ctx.region]
        limit = self._settings.concurrent_executions
        reserved = sum(e.reserved_concurrency or 0 for e in entries)
        return {
            "AccountLimit": {
                "TotalCodeSize": TOTAL_CODE_SIZE,
                "CodeSizeUnzipped": package.MAX_UNZIPPED,
                "CodeSizeZipped": package.MAX_ZIPPED,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": limit - reserved,
            },
            "AccountUsage": {
                "TotalCodeSize": self._functions.total_code_size(ctx.region),
                "FunctionCount": len(entries),
            },
        }

    # -- code download URLs ---------------------------------------------------------------------
    def code_url(self, base_url: str, digest: str) -> str:
        expires = int(time.time()) + CODE_URL_TTL
        return f"{base_url}/_lamina/code/{digest}?Expires={expires}&Signature={self._sign(digest, expires)}"

    def _sign(self, digest: str, expires: int) -> str:
        return hmac.new(self._secret, f"{digest}:{expires}".encode(), hashlib.sha256).hexdigest()

    def code_path_if_signed(self, digest: str, expires: str, signature: str) -> str | None:
        """The package path for a valid, unexpired signed URL, else None."""
        if not expires.isdigit() or int(expires) < time.time():
            return None
        if not hmac.compare_digest(self._sign(digest, int(expires)), signature):
            return None
        path = self._functions.code_path(digest)
        return str(path) if path.exists() else None
