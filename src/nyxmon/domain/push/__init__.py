"""Push (heartbeat) checks: the job pings NyxMon, and silence is the alarm.

- :mod:`.schedule`: when the next ping is expected (a period or a cron expression in a zone,
  plus a grace);
- :mod:`.tracker`: one check's deadline, open runs and what each ping means;
- :mod:`.ping`: a ping as received, and the ping URL's grammar;
- :mod:`.keys`: generating and checking ping keys.
"""

from __future__ import annotations

from nyxmon.domain.push.keys import KEY_MAX, generate_ping_key, key_problem
from nyxmon.domain.push.ping import MAX_BODY, Ping, PingKind, parse_ping_path
from nyxmon.domain.push.schedule import PUSH_TYPE, PushSchedule, schedule_for
from nyxmon.domain.push.tracker import Missed, PingVerdict, PushTracker

__all__ = [
    "KEY_MAX",
    "MAX_BODY",
    "PUSH_TYPE",
    "Missed",
    "Ping",
    "PingKind",
    "PingVerdict",
    "PushSchedule",
    "PushTracker",
    "generate_ping_key",
    "key_problem",
    "parse_ping_path",
    "schedule_for",
]
