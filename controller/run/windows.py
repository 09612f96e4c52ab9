"""Change windows and the pass interval, as `Settings.spec.schedule` says — re-read at every
pass, so a merged policy change takes effect at the next pass, not at the next restart."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from controller.policy.cron import cron_trigger
from controller.policy.models import ChangeWindow, Schedule, parse_duration


def window_open(window: ChangeWindow, now: datetime) -> bool:
    """True when `now` falls in `[start, start + duration)` for a start of `window.cron`."""
    zone = ZoneInfo(window.timezone)
    length = parse_duration(window.duration)
    trigger = cron_trigger(window.cron, zone)
    since = (now - length).astimezone(zone)
    start = trigger.get_next_fire_time(None, since)
    return start is not None and start <= now < start + length


def writes_allowed(schedule: Schedule, now: datetime) -> bool:
    """No windows: always; else inside at least one."""
    return not schedule.windows or any(window_open(w, now) for w in schedule.windows)


def next_delay(schedule: Schedule, rng: random.Random | None = None) -> timedelta:
    """The wait before the next pass: the interval plus a random part of the jitter."""
    interval = parse_duration(schedule.interval)
    jitter = parse_duration(schedule.jitter).total_seconds()
    extra = (rng or random).uniform(0, jitter) if jitter > 0 else 0.0
    return interval + timedelta(seconds=extra)
