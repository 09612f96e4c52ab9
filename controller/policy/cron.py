"""Crontab expressions of change windows (`Settings.spec.schedule.windows`), as crontab means
them: APScheduler's `CronTrigger` with crontab's day-of-week numbers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(expression: str, zone: ZoneInfo) -> CronTrigger:
    """A crontab expression with crontab's day numbers (0 and 7 Sunday, 1 Monday).

    APScheduler 3 numbers days from Monday = 0, so `1-5` would mean Tuesday to Saturday:
    numeric days are rewritten as names first (`1-5` → `mon,tue,wed,thu,fri`)."""
    fields = expression.split()
    if len(fields) == 5:
        fields[4] = ",".join(_days(part) for part in fields[4].split(","))
    minute, hour, day, month, weekday = fields if len(fields) == 5 else (expression, "", "", "", "")
    if not hour:
        return CronTrigger.from_crontab(expression, timezone=zone)  # its own error message
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=zone
    )


def _days(part: str) -> str:
    span, _, step = part.partition("/")
    first, _, last = span.partition("-")
    if not first.isdigit() or (last and not last.isdigit()):
        return part  # names, `*`
    numbers = range(int(first), int(last or first) + 1, int(step or 1))
    if any(n > 7 for n in numbers):
        raise ValueError(f"day of week {part!r} is out of range 0-7")
    return ",".join(dict.fromkeys(DAYS[n] for n in numbers))
