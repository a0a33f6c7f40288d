"""The resource policy a public (AuthType NONE) function URL needs: since AWS's 2025 change, both
`lambda:InvokeFunctionUrl` and `lambda:InvokeFunction` (here limited to URL calls, as SAM and the console write it)."""

from __future__ import annotations

from typing import Any


def grant_public_url(client: Any, function: str, sid: str = "url", **qualifier: str) -> None:
    client.add_permission(
        FunctionName=function,
        StatementId=sid,
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
        **qualifier,
    )
    client.add_permission(
        FunctionName=function,
        StatementId=f"{sid}-invoke",
        Action="lambda:InvokeFunction",
        Principal="*",
        InvokedViaFunctionUrl=True,
        **qualifier,
    )
