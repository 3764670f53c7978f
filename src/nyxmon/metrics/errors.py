"""Errors of the metrics runtime.

Like :mod:`nyxmon.runtime`, the metrics package ships on its own, so it has its own root::

    MetricsError
    ├── MetricsStateError          the runtime or recorder is in a state that refuses the call
    ├── RecorderNotFoundError      no recorder has the given id (also a KeyError)
    ├── RecorderExistsError        a recorder with that id exists already
    ├── MetricDefinitionError      a bad metric name, label, bucket list or binding (a ValueError)
    │   └── DuplicateMetricError   a recorder already has a metric of that name
    └── MetricsOverflowError       a recorder's queue is full and its policy is ``raise``
                                   (also the runtime's QueueFullError)
"""

from __future__ import annotations

from nyxmon.runtime.errors import QueueFullError

__all__ = [
    "DuplicateMetricError",
    "MetricDefinitionError",
    "MetricsError",
    "MetricsOverflowError",
    "MetricsStateError",
    "RecorderExistsError",
    "RecorderNotFoundError",
]


class MetricsError(Exception):
    """Base of every error the metrics package raises on purpose."""


class MetricsStateError(MetricsError):
    """The metrics runtime or a recorder is in a state that does not allow the operation."""


class RecorderNotFoundError(MetricsError, KeyError):
    """No recorder is registered under the given id."""

    def __init__(self, recorder_id: str, known: tuple[str, ...] = ()) -> None:
        self.recorder_id = recorder_id
        hint = f"; known: {', '.join(sorted(known))}" if known else "; there are none"
        super().__init__(f"no recorder with id {recorder_id!r}{hint}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class RecorderExistsError(MetricsError):
    """A recorder with that id is registered (or being created) already."""

    def __init__(self, recorder_id: str) -> None:
        self.recorder_id = recorder_id
        super().__init__(f"a recorder with id {recorder_id!r} exists already")


class MetricDefinitionError(MetricsError, ValueError):
    """A metric definition is invalid; the message names the metric and the offending part."""


class DuplicateMetricError(MetricDefinitionError):
    """The recorder already has a metric with this name."""

    def __init__(self, recorder_id: str, metric: str) -> None:
        self.recorder_id = recorder_id
        self.metric = metric
        super().__init__(f"recorder {recorder_id!r} already has a metric named {metric!r}")


class MetricsOverflowError(MetricsError, QueueFullError):
    """A recorder's pending-event queue is full and its overflow policy is ``raise``."""

    def __init__(self, recorder_id: str, limit: int) -> None:
        self.recorder_id = recorder_id
        self.limit = limit
        super().__init__(
            f"recorder {recorder_id!r} has {limit} events waiting (queue_max_size) and its "
            "overflow policy is 'raise'; the event was not accepted"
        )
