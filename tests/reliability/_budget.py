"""How many examples the reliability suite's property tests try: few in the ordinary run (the
whole suite stays within tens of seconds), many with ``NYXMON_RELIABILITY_LONG=1``.

Settings objects rather than a loaded hypothesis profile, so these modules never change the
settings of tests elsewhere.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["LONG", "budget"]

LONG = os.environ.get("NYXMON_RELIABILITY_LONG") == "1"


def budget(examples: int, long_examples: int) -> settings:
    """Hypothesis settings with ``examples`` normally and ``long_examples`` in a long run."""
    return settings(
        max_examples=long_examples if LONG else examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
