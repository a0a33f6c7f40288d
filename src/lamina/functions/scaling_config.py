"""Function scaling configs (Put/GetFunctionScalingConfig, 2025-11-30): in AWS they belong to Lambda Managed
Instances, i.e. to functions published with a capacity provider. Lamina has no capacity providers, so no
function can carry one: the function and qualifier are checked as AWS checks them (ResourceNotFoundException),
then the request is refused with InvalidParameterValueException rather than left answering 501.
"""

from __future__ import annotations

from lamina.errors import InvalidParameter
from lamina.functions.control import FunctionService
from lamina.functions.names import FunctionRef

# Not compared with a recorded AWS response (none recorded): AWS's wording may differ.
NO_CAPACITY_PROVIDER = "Function scaling configuration is only supported for functions with a capacity provider."


def refuse_without_capacity_provider(functions: FunctionService, ref: FunctionRef) -> None:
    functions.config(ref)  # a missing function, version or alias is ResourceNotFoundException first
    raise InvalidParameter(NO_CAPACITY_PROVIDER, Type="User")
