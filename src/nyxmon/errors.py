"""NyxMon's exceptions.

Everything NyxMon raises on purpose derives from :class:`NyxmonError`, so callers can catch one
type at a boundary. Errors are translated where they cross a boundary
(``raise StoreError(...) from exc``), and every message names its culprit: the config key path
and line, the API field, the CLI option, the check id.

The concurrency runtime (:mod:`nyxmon.runtime`) is deliberately standalone and has its own small
tree rooted at :class:`nyxmon.runtime.ConcurrencyError`; it is drawn here for the whole picture::

    NyxmonError
    ├── ConfigError                   a config file or value is invalid (path:line: key.path: why)
    │   ├── ConfigValidationError     every problem of a file or API check, in .errors
    │   │                             (defined in nyxmon.config, next to its ConfigIssue records)
    │   └── ConditionSyntaxError      a condition like "[STATUS] == 200" cannot be parsed
    ├── CheckError
    │   ├── UnknownCheckTypeError     no executor is registered for a check's type
    │   ├── CheckNotFoundError        no check has the given id
    │   └── PingKeyNotFoundError      no push check has the given ping key
    ├── ServiceNotFoundError          no service has the given name
    ├── StoreError                    the store failed (translated from sqlite3 / psycopg errors)
    │   ├── SchemaVersionError        the database is newer than this NyxMon understands
    │   └── ConflictError             contradicts what is stored (duplicate id, read-only)
    ├── NotificationError             a notification provider refused or failed a delivery
    └── AlertingError                 alert policies and state (also ValueErrors)
        ├── PolicyError               an alert policy breaks a rule (threshold < 1, flap bounds)
        └── SnapshotError             a stored alert state-machine snapshot cannot be read

    ConcurrencyError (nyxmon.runtime)
    ├── DeadlockError                 a blocking wait was called from the thread that must serve it
    ├── RuntimeClosedError            the runtime / dispatcher / pool is stopped or stopping
    ├── QueueFullError                a bounded queue is full and its policy says raise
    ├── DispatcherCrashedError        the dispatch loop itself died; every waiter gets this
    └── DiscardedError                work discarded by a stop (a CancelledError too)

    MetricsError (nyxmon.metrics, standalone like the runtime)
    ├── MetricsStateError             the metrics runtime / recorder state refuses the call
    ├── RecorderNotFoundError         no recorder has the given id (also a KeyError)
    ├── RecorderExistsError           a recorder with that id exists already
    ├── MetricDefinitionError         bad metric name, labels, buckets or binding (a ValueError)
    │   └── DuplicateMetricError      the recorder already has a metric of that name
    └── MetricsOverflowError          a recorder's queue is full, policy 'raise' (a QueueFullError)
"""

from __future__ import annotations

__all__ = [
    "AlertingError",
    "CheckError",
    "CheckNotFoundError",
    "ConditionSyntaxError",
    "ConfigError",
    "ConflictError",
    "NotificationError",
    "NyxmonError",
    "PingKeyNotFoundError",
    "PolicyError",
    "SchemaVersionError",
    "ServiceNotFoundError",
    "SnapshotError",
    "StoreError",
    "UnknownCheckTypeError",
]


class NyxmonError(Exception):
    """Base of every error NyxMon raises on purpose."""


class ConfigError(NyxmonError):
    """A configuration file or value is invalid; the message names the key path and line."""


class ConditionSyntaxError(ConfigError):
    """A condition expression cannot be parsed; the message quotes it and says where it breaks."""


class CheckError(NyxmonError):
    """A check cannot be run or found."""


class UnknownCheckTypeError(CheckError):
    """No executor is registered for the check's type."""

    def __init__(self, check_type: str, known: tuple[str, ...] = ()) -> None:
        self.check_type = check_type
        hint = f"; known types: {', '.join(sorted(known))}" if known else ""
        super().__init__(f"unknown check type {check_type!r}{hint}")


class CheckNotFoundError(CheckError):
    """No check has the given id."""

    def __init__(self, check_id: str) -> None:
        self.check_id = check_id
        super().__init__(f"no check with id {check_id!r}")


class PingKeyNotFoundError(CheckError):
    """No push check has the given ping key. The message never repeats the key: it is
    answered to whoever pinged, and the key may be someone else's secret with a typo."""

    def __init__(self) -> None:
        super().__init__("no push check has this ping key")


class PingHeldElsewhereError(CheckError):
    """The push check with this key is held by another agent of the same database (several
    agents share checks by leases), so this one cannot record the ping: the caller should
    try again, which through a load balancer reaches the holder. Not a 404: the key is
    right, and a job told "not found" would stop trying."""

    def __init__(self) -> None:
        super().__init__("another agent holds this push check; ping again")


class ServiceNotFoundError(NyxmonError):
    """No service has the given name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no service named {name!r}")


class StoreError(NyxmonError):
    """The store failed; raised from the underlying driver's error."""


class SchemaVersionError(StoreError):
    """The database schema is newer than this version of NyxMon understands."""


class ConflictError(StoreError):
    """The requested change contradicts what is stored (duplicate id, read-only config check)."""


class NotificationError(NyxmonError):
    """A notification provider refused or failed a delivery."""


class AlertingError(NyxmonError, ValueError):
    """Alert policy or state given to the alert state machine is invalid."""


class PolicyError(AlertingError):
    """An alert policy breaks a rule; the message names the policy key."""


class SnapshotError(AlertingError):
    """A stored alert state-machine snapshot cannot be read; the message names the field."""
