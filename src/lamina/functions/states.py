"""Function lifecycle states as Lambda reports them, with the allowed transitions in one place.

    create ──► Pending ──(package ready)──► Active
    update (Active):  LastUpdateStatus InProgress ──(ready)──► Successful
                                                   └─(error)──► Failed (old code keeps serving)

While a function is Pending or an update is InProgress, further updates are refused (409);
botocore's waiters (function_active_v2, function_updated_v2) poll these exact strings.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    PENDING = "Pending"
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    FAILED = "Failed"


class UpdateStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"


CREATING_REASON = "The function is being created."
CREATING_CODE = "Creating"

_ALLOWED: dict[State, frozenset[State]] = {
    State.PENDING: frozenset({State.ACTIVE, State.FAILED}),
    State.ACTIVE: frozenset({State.ACTIVE, State.INACTIVE}),
    State.INACTIVE: frozenset({State.PENDING, State.ACTIVE}),
    State.FAILED: frozenset({State.FAILED}),
}


def check_transition(old: State, new: State) -> None:
    if new not in _ALLOWED[old]:
        raise ValueError(f"illegal function state transition {old} -> {new}")
