"""What the analytics endpoints answer (the console's charts), for the OpenAPI document.
:mod:`analytics.services.stats` builds plain dicts; django-ninja checks them against these.

Funnel steps are a mapping, not fixed fields: apps add steps through
``stats.FUNNEL_SOURCES`` (meeting requests, for one) without touching these schemas."""

from __future__ import annotations

from ninja import Schema

# Counts are whole numbers; medians and seconds may be fractional.
Number = int | float


class Series(Schema):
    """A booth's counts per ``step`` seconds from ``start`` (unix time), with the median
    booth of its hall per step."""

    start: float
    counts: list[int]
    hall_median: list[Number]


class Funnel(Schema):
    """visits, visitors, chats, knocks, calls, call_seconds, leads, applications and the
    steps of ``FUNNEL_SOURCES``: the booth's and the hall's median booth's."""

    booth: dict[str, Number]
    hall_median: dict[str, Number]


class Hours(Schema):
    """Visits by hour of the day (0 to 23, the expo's time zone)."""

    booth: list[int]
    hall_median: list[Number]


class BoothCharts(Schema):
    booth: int
    step: int
    hall_booths: int
    today: Series
    expo: Series
    funnel: Funnel
    hours: Hours


class Concurrent(Schema):
    start: float
    counts: list[int]


class TopBooth(Schema):
    booth: int
    name: str
    visitors: int
    visits: int


class HallVisits(Schema):
    hall: int
    name: str
    visitors: int
    visits: int


class RoadshowAudience(Schema):
    roadshow: int
    title: str
    viewers: int
    views: int
    watch_seconds: float


class MeetingStates(Schema):
    state: str
    count: int


class ExpoCharts(Schema):
    step: int
    concurrent: Concurrent
    top_booths: list[TopBooth]
    halls: list[HallVisits]
    roadshows: list[RoadshowAudience]
    # Meeting requests asked during the expo, per state (every state, zeros included).
    meetings: list[MeetingStates]
