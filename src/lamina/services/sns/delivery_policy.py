"""HTTP/S delivery policies: validation, the effective policy (subscription over topic over AWS's default) and the
retry schedule it implies.

AWS's default for HTTP/S (recorded EffectiveDeliveryPolicy; developer guide "Amazon SNS message delivery retries"):
3 retries, 20 seconds apart (minDelayTarget = maxDelayTarget = 20, linear backoff, no immediate, pre- or
post-backoff retries), no throttling, Content-Type "text/plain; charset=UTF-8".

A policy's retries run in four phases: numNoDelayRetries without delay, numMinDelayRetries minDelayTarget apart,
the backoff phase (the remaining retries, minDelayTarget → maxDelayTarget along backoffFunction), then
numMaxDelayRetries maxDelayTarget apart. AWS caps the total at 3,600 seconds. AWS adds jitter; Lamina doesn't, so
the schedule is predictable (and testable on the injected clock).
"""

from __future__ import annotations

import json
import math
from typing import Any

from lamina import json_text
from lamina.errors import InvalidParameter

DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
DEFAULT_HEALTHY: dict[str, Any] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
MAX_TOTAL_SECONDS = 3600


def _invalid(attribute: str, reason: str) -> InvalidParameter:
    return InvalidParameter(f"Invalid parameter: {attribute}: {reason}")


def _healthy(policy: Any, attribute: str) -> dict[str, Any]:
    """A healthy retry policy with every key (as AWS returns it), validated."""
    if not isinstance(policy, dict):
        raise _invalid(attribute, "healthyRetryPolicy must be an object")
    out: dict[str, Any] = {}
    for key, default in DEFAULT_HEALTHY.items():
        value = policy.get(key, default if key in ("minDelayTarget", "maxDelayTarget", "numRetries") else None)
        if key == "backoffFunction":
            value = value or "linear"
            if value not in BACKOFF_FUNCTIONS:
                raise _invalid(attribute, f"backoffFunction must be one of {', '.join(BACKOFF_FUNCTIONS)}")
        else:
            value = 0 if value is None else value
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise _invalid(attribute, f"{key} must be a non-negative integer")
        out[key] = value
    if out["minDelayTarget"] < 1 or out["maxDelayTarget"] < out["minDelayTarget"]:
        raise _invalid(attribute, "minDelayTarget must be at least 1 and not more than maxDelayTarget")
    if out["numRetries"] > 100:
        raise _invalid(attribute, "numRetries must be at most 100")
    phases = out["numNoDelayRetries"] + out["numMinDelayRetries"] + out["numMaxDelayRetries"]
    if phases > out["numRetries"]:
        raise _invalid(attribute, "numRetries must be at least the sum of the phase retries")
    if sum(retry_delays(out)) > MAX_TOTAL_SECONDS:
        raise _invalid(attribute, f"the total retry time must not exceed {MAX_TOTAL_SECONDS} seconds")
    return out


def _throttle(policy: Any, attribute: str) -> dict[str, Any]:
    if not isinstance(policy, dict):
        raise _invalid(attribute, "throttlePolicy must be an object")
    rate = policy.get("maxReceivesPerSecond")
    if rate is not None and (not isinstance(rate, int) or isinstance(rate, bool) or rate < 1):
        raise _invalid(attribute, "maxReceivesPerSecond must be a positive integer")
    return dict(policy)


def _request(policy: Any, attribute: str) -> dict[str, Any]:
    if not isinstance(policy, dict) or not isinstance(policy.get("headerContentType", ""), str):
        raise _invalid(attribute, "requestPolicy must be an object with a string headerContentType")
    return dict(policy)


def _load(text: str, attribute: str) -> dict[str, Any]:
    try:
        policy = json_text.loads_document(text)
    except ValueError:
        raise _invalid(attribute, "failed to parse JSON") from None
    if not isinstance(policy, dict):
        raise _invalid(attribute, "must be a JSON object")
    return policy


def subscription_policy(text: str) -> dict[str, Any]:
    """A subscription's DeliveryPolicy as AWS stores and returns it (every section present, null when unset)."""
    policy = _load(text, "DeliveryPolicy")
    healthy = policy.get("healthyRetryPolicy")
    throttle = policy.get("throttlePolicy")
    request = policy.get("requestPolicy")
    return {
        "healthyRetryPolicy": None if healthy is None else _healthy(healthy, "DeliveryPolicy"),
        "sicklyRetryPolicy": policy.get("sicklyRetryPolicy"),
        "throttlePolicy": None if throttle is None else _throttle(throttle, "DeliveryPolicy"),
        "requestPolicy": None if request is None else _request(request, "DeliveryPolicy"),
        "guaranteed": bool(policy.get("guaranteed", False)),
    }


def topic_policy(text: str) -> dict[str, Any]:
    """A topic's DeliveryPolicy, validated (kept as given)."""
    policy = _load(text, "DeliveryPolicy")
    http = policy.get("http", {})
    if not isinstance(http, dict):
        raise _invalid("DeliveryPolicy", "http must be an object")
    if "defaultHealthyRetryPolicy" in http:
        _healthy(http["defaultHealthyRetryPolicy"], "DeliveryPolicy")
    if "defaultThrottlePolicy" in http:
        _throttle(http["defaultThrottlePolicy"], "DeliveryPolicy")
    if "defaultRequestPolicy" in http:
        _request(http["defaultRequestPolicy"], "DeliveryPolicy")
    return policy


def effective_topic_policy(text: str | None) -> dict[str, Any]:
    """The topic's EffectiveDeliveryPolicy: AWS's default http section with the topic's policy over it."""
    http: dict[str, Any] = {}
    given = (json.loads(text) if text else {}).get("http", {}) if text else {}
    healthy = given.get("defaultHealthyRetryPolicy")
    http["defaultHealthyRetryPolicy"] = _healthy(healthy, "DeliveryPolicy") if healthy else dict(DEFAULT_HEALTHY)
    if "defaultThrottlePolicy" in given:
        http["defaultThrottlePolicy"] = given["defaultThrottlePolicy"]
    http["disableSubscriptionOverrides"] = bool(given.get("disableSubscriptionOverrides", False))
    http["defaultRequestPolicy"] = given.get("defaultRequestPolicy") or {"headerContentType": DEFAULT_CONTENT_TYPE}
    return {"http": http}


def effective_subscription_policy(sub_text: str | None, topic_text: str | None) -> dict[str, Any]:
    """A subscription's EffectiveDeliveryPolicy: its own sections, else the topic's defaults, else AWS's."""
    topic = effective_topic_policy(topic_text)["http"]
    sub = subscription_policy(sub_text) if sub_text else None
    overrides = sub is not None and not topic["disableSubscriptionOverrides"]

    def pick(own: str, default: Any) -> Any:
        if overrides and sub is not None and sub.get(own) is not None:
            return sub[own]
        return default

    return {
        "healthyRetryPolicy": pick("healthyRetryPolicy", topic["defaultHealthyRetryPolicy"]),
        "sicklyRetryPolicy": None,
        "throttlePolicy": pick("throttlePolicy", topic.get("defaultThrottlePolicy")),
        "requestPolicy": pick("requestPolicy", topic["defaultRequestPolicy"]),
        "guaranteed": False,
    }


def retry_delays(healthy: dict[str, Any]) -> list[float]:
    """Seconds to wait before each retry (one entry per retry)."""
    total = int(healthy["numRetries"])
    low, high = float(healthy["minDelayTarget"]), float(healthy["maxDelayTarget"])
    no_delay = min(int(healthy.get("numNoDelayRetries") or 0), total)
    min_delay = min(int(healthy.get("numMinDelayRetries") or 0), total - no_delay)
    max_delay = min(int(healthy.get("numMaxDelayRetries") or 0), total - no_delay - min_delay)
    backoff = total - no_delay - min_delay - max_delay
    function = healthy.get("backoffFunction") or "linear"
    delays: list[float] = [0.0] * no_delay + [low] * min_delay
    for i in range(1, backoff + 1):
        fraction = i / backoff
        if function == "exponential" and low > 0:
            delay = low * math.pow(high / low, fraction)
        elif function == "geometric":
            delay = low + (high - low) * fraction**3
        elif function == "arithmetic":
            delay = low + (high - low) * fraction**2
        else:  # linear
            delay = low + (high - low) * fraction
        delays.append(round(delay, 3))
    delays += [high] * max_delay
    return delays
