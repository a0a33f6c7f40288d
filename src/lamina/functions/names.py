"""Function names, ARNs, partial ARNs and qualifiers, parsed as Lambda parses them.

`FunctionName` may be `my-fn`, `my-fn:qualifier`, `123456789012:function:my-fn[:qualifier]` or
`arn:aws:lambda:us-east-1:123456789012:function:my-fn[:qualifier]`. A qualifier may also come in a
separate `Qualifier` parameter; when both are given they must agree.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lamina.errors import AccessDenied, InvalidParameter, NotFound

# The model's FunctionName pattern with its groups named; parsing the way it matches means
# `arn:aws:lambda:us-east-1:123456789012:function` names a function called "function", as on AWS.
_FUNCTION = re.compile(
    r"^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9-_.]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?$"
)

QUALIFIER_MISMATCH = "The derived qualifier from the function name does not match the specified qualifier."


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


@dataclass(frozen=True)
class FunctionRef:
    name: str
    qualifier: str | None
    region: str
    account: str

    @property
    def arn(self) -> str:
        return function_arn(self.region, self.account, self.name)

    @property
    def qualified_arn(self) -> str:
        return function_arn(self.region, self.account, self.name, self.qualifier)


@functools.lru_cache(maxsize=4096)  # pure, and on the invoke path: the same few names come back
def parse_function(value: str, region: str, account: str, qualifier: str | None = None) -> FunctionRef:
    """Resolves any accepted form of FunctionName (already checked against the model's pattern)."""
    m = _FUNCTION.match(value)
    if m is None:
        raise InvalidParameter(f"Invalid function name: {value}", Type="User")
    groups = m.groupdict()
    arn_region = groups.get("region") or region
    arn_account = groups.get("account") or account
    if arn_region != region:
        raise NotFound(f"Functions from '{arn_region}' are not reachable in this region ('{region}')", Type="User")
    if arn_account != account:
        raise AccessDenied(
            f"User: arn:aws:iam::{account}:root is not authorized to access {value}: "
            "cross-account access is not supported by Lamina"
        )
    derived = groups.get("qualifier")
    if derived is not None and qualifier is not None and derived != qualifier:
        raise InvalidParameter(QUALIFIER_MISMATCH, Type="User")
    return FunctionRef(groups["name"], derived or qualifier, region, account)
