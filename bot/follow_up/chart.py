"""The ``/incident stats`` chart: incidents per week by severity, with the weekly median
MTTA and MTTR, drawn as a PNG on the server (pure: incidents and a period in, bytes out).

Drawn with matplotlib's Agg canvas on a ``Figure`` of its own (no ``pyplot``, whose global
state is not safe across threads), so charts can be drawn in a worker thread while the bot
serves Slack. An empty period and a single incident are charted like any other.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.domain.incident import Incident
from bot.domain.stats import median

WEEK = timedelta(days=7)
# Most severe first, in the configured order; any other severity is drawn in grey.
_COLOURS = ("#b71c1c", "#ef6c00", "#f9a825", "#1565c0", "#6a1b9a", "#2e7d32")


def weeks(since: datetime, until: datetime) -> list[datetime]:
    """The start of each week of the period (at least one, however short the period)."""
    starts = [since]
    while starts[-1] + WEEK < until:
        starts.append(starts[-1] + WEEK)
    return starts


def _minutes(value: timedelta | None) -> float:
    return value.total_seconds() / 60 if value is not None else float("nan")


def render_chart(
    incidents: Sequence[Incident],
    severities: Sequence[tuple[str, str]],
    *,
    since: datetime,
    until: datetime,
) -> bytes:
    """``severities``: (key, label) in the configured order."""
    starts = weeks(since, until)
    buckets: list[list[Incident]] = [[] for _ in starts]
    for incident in incidents:
        if since <= incident.declared_at <= until:
            index = min(int((incident.declared_at - since) / WEEK), len(starts) - 1)
            buckets[index].append(incident)
    # Imported here, not at the top: matplotlib and numpy are about 53 MB of a bot that idles
    # at about 95 MB, and most bots never draw a chart.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    counts = figure.add_subplot(1, 1, 1)
    positions = list(range(len(starts)))
    bottom = [0.0] * len(starts)
    known = {key for key, _ in severities}
    others = sorted({i.severity for i in incidents} - known)
    for number, (key, label) in enumerate([*severities, *((o, o.upper()) for o in others)]):
        heights = [float(sum(i.severity == key for i in bucket)) for bucket in buckets]
        colour = _COLOURS[number] if number < len(_COLOURS) else "#9e9e9e"
        counts.bar(positions, heights, bottom=bottom, label=label, color=colour, width=0.6)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    counts.set_ylabel("incidents declared")
    counts.set_xticks(positions, [start.strftime("%d %b") for start in starts])
    counts.set_ylim(0, max([*bottom, 1.0]) * 1.25)
    times = counts.twinx()
    mtta = [
        _minutes(median([t for i in b if (t := i.time_to_acknowledge) is not None]))
        for b in buckets
    ]
    mttr = [
        _minutes(median([t for i in b if (t := i.time_to_resolve) is not None])) for b in buckets
    ]
    times.plot(positions, mtta, marker="o", color="#37474f", label="median MTTA")
    times.plot(positions, mttr, marker="s", linestyle="--", color="#00838f", label="median MTTR")
    times.set_ylabel("minutes")
    times.set_ylim(bottom=0)
    title = f"Incidents per week, {since:%Y-%m-%d} to {until:%Y-%m-%d} (UTC)"
    if not incidents:
        title += ": none declared"
    counts.set_title(title)
    handles, labels = counts.get_legend_handles_labels()
    more_handles, more_labels = times.get_legend_handles_labels()
    counts.legend(handles + more_handles, labels + more_labels, loc="upper left", fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
