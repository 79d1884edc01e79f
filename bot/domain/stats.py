"""Response metrics over a period: per severity, how many incidents and how fast (MTTA, MTTR).

Pure: incidents in, numbers out. Medians are the usual middle value (the mean of the two
middle ones for an even count); p90 is the nearest-rank 90th percentile, an observed value.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.incident import Incident
from bot.errors import InvalidInput

DEFAULT_PERIOD = timedelta(days=30)
MAX_PERIOD = timedelta(days=365)
_PERIOD = re.compile(r"^(\d{1,4})([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_period(text: str) -> timedelta:
    """``30d`` (the default), ``12h``, ``2w``; at most a year."""
    word = text.strip().lower()
    if not word:
        return DEFAULT_PERIOD
    match = _PERIOD.match(word)
    if match is None:
        raise InvalidInput(
            f"{text.strip()!r} is not a period: write it like `30d`, `12h` or `2w` (at most 365d)."
        )
    period = int(match.group(1)) * _UNITS[match.group(2)]
    if period <= timedelta(0):
        raise InvalidInput("The period must be longer than zero, e.g. `30d`.")
    if period > MAX_PERIOD:
        raise InvalidInput(f"{word} is longer than Klaxon looks back: at most 365d.")
    return period


def median(values: Sequence[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def percentile(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """Nearest rank: the smallest observed value with at least ``fraction`` at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)), 1) - 1]


@dataclass(frozen=True, slots=True)
class SeverityStats:
    severity: str
    declared: int
    acknowledged: int
    resolved: int
    still_open: int
    mtta_median: timedelta | None
    mtta_p90: timedelta | None
    mttr_median: timedelta | None
    mttr_p90: timedelta | None


@dataclass(frozen=True, slots=True)
class Stats:
    since: datetime
    until: datetime
    by_severity: tuple[SeverityStats, ...]

    @property
    def declared(self) -> int:
        return sum(s.declared for s in self.by_severity)

    @property
    def still_open(self) -> int:
        return sum(s.still_open for s in self.by_severity)


def compute_stats(
    incidents: Iterable[Incident],
    severities: Sequence[str],
    *,
    since: datetime,
    until: datetime,
    open_now: dict[str, int],
) -> Stats:
    """``incidents`` declared in ``[since, until]``; ``open_now``: open incidents per severity
    (whenever declared). Severities appear in ``severities`` order, then any others seen."""
    declared: dict[str, list[Incident]] = {}
    for incident in incidents:
        declared.setdefault(incident.severity, []).append(incident)
    order = list(severities) + sorted((set(declared) | set(open_now)) - set(severities))
    rows = []
    for severity in order:
        group = declared.get(severity, [])
        ttas = [i.time_to_acknowledge for i in group if i.time_to_acknowledge is not None]
        ttrs = [i.time_to_resolve for i in group if i.time_to_resolve is not None]
        rows.append(
            SeverityStats(
                severity=severity,
                declared=len(group),
                acknowledged=len(ttas),
                resolved=len(ttrs),
                still_open=open_now.get(severity, 0),
                mtta_median=median(ttas),
                mtta_p90=percentile(ttas, 0.9),
                mttr_median=median(ttrs),
                mttr_p90=percentile(ttrs, 0.9),
            )
        )
    return Stats(since=since, until=until, by_severity=tuple(rows))
