"""One typed settings object, built once at start-up and passed down. Nothing reads the environment
at import time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

DEFAULT_PORT = 4566
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"


def default_data_dir() -> Path:
    """Per-user data directory: ~/.local/share/lamina on Linux ($XDG_DATA_HOME respected)."""
    return Path(platformdirs.user_data_dir("lamina", appauthor=False))


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = Path(".lamina-data")
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT
    # The one credential pair SigV4-verifying front doors accept (function URLs with AuthType AWS_IAM).
    access_key_id: str = "test"
    secret_access_key: str = "test"
    # Seconds a function stays Pending after create (and InProgress after an update) beyond the real
    # preparation work. AWS takes seconds; 0 keeps local loops fast while the states stay observable.
    state_transition_delay: float = 0.0
    # Account limits reported by GetAccountSettings and enforced by the concurrency ledger.
    concurrent_executions: int = 1000
    # SQLite synchronous mode for control-plane writes: FULL survives power loss, NORMAL a crash.
    sqlite_synchronous: str = "FULL"
    # Kernel same-page merging for idle environments (sandbox/memory_merge.py): "auto", "on" or "off".
    memory_merge: str = "auto"
    # Pin the only invocation in flight to the event loop's CPU (sandbox/placement.py).
    cpu_placement: bool = True
    # Host-wide bounds on all environments together (sandbox/host_bounds.py); None: derived from the host.
    max_environment_memory_mb: int | None = None
    max_environment_pids: int | None = None
    # --strict-iam: a function's Role must be an IAM role Lamina has whose trust policy lets Lambda assume it
    # (AWS's InvalidParameterValueException otherwise), and STS refuses roles that do not exist.
    strict_iam: bool = False
    # --lambda-metrics off: no AWS/Lambda metrics or Prometheus invocation counters (the invoke path's hooks are
    # not installed; bench/metrics_bench.py measures their cost against this).
    lambda_metrics: bool = True
    # --tracing off: no X-Ray segments for sampled invocations and no daemon endpoint (the invoke path's hook is not
    # installed; bench/observability_bench.py measures the cost against this). Trace headers are still handed on.
    tracing: bool = True
    # --xray-sampling: "default" (X-Ray's default rule for TracingConfig Active, as Lambda: one invocation a second
    # per function plus 5% of the rest, invoke/sampling.py) or "all" (every Active invocation sampled, to debug).
    xray_sampling: str = "default"
    # --otlp-endpoint URL: the same spans also exported over OTLP/HTTP (services/xray/otlp_export.py).
    otlp_endpoint: str | None = None
    # --auth: "none" (any caller is the account's root, as before) or "sigv4" (every API request must be signed
    # with a key Lamina knows: the root pair above, STS sessions, IAM users' access keys).
    auth: str = "none"
    # --kinesis-limits off: no ProvisionedThroughputExceededException (services/kinesis/limits.py); AWS's quotas
    # are on by default, off lets a benchmark measure Lamina itself.
    kinesis_limits: bool = True
    # --function-network: "host" (functions share the host's network) or "isolated" (a network namespace per
    # environment that reaches only Lamina's port and its own Runtime API; refused where namespaces are not).
    function_network: str = "host"

    @property
    def public_url(self) -> str:
        host = "localhost" if self.host in ("0.0.0.0", "127.0.0.1", "::") else self.host
        return f"http://{host}:{self.port}"
