"""The figures behind the console's charts, computed from the raw records: analytics events,
leads (``streaming.Lead``), applications (``recruitment.Application``) and meeting requests
(``docking.Meeting``).

Every series is plain numbers (``start`` as unix time, ``step`` in seconds, ``counts``), so the
browser draws it and a test can hold it against counts of the raw rows.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count
from django.utils import timezone

from booths.models import Booth, BoothStaff, Expo, Hall, Roadshow
from docking.models import Meeting
from recruitment.models import Application, Status
from streaming.models import Lead

from ..models import Event, Kind

STEP = 300  # seconds: the charts' 5-minute steps

#: Counts of the funnel taken from other apps' tables: name → f(booth ids, start, end) →
#: {booth: n}.
FUNNEL_SOURCES: dict[str, Callable[[list[int], datetime, datetime], dict[int, int]]] = {}


def _count_by_booth(qs, field: str = "booth_id") -> dict[int, int]:
    return {r[field]: r["n"] for r in qs.values(field).annotate(n=Count("id"))}


def _leads(booths, start, end):
    return _count_by_booth(Lead.objects.filter(booth_id__in=booths, created_at__gte=start,
                                               created_at__lt=end))


def _applications(booths, start, end):
    return _count_by_booth(Application.objects.filter(booth_id__in=booths,
                                                      created_at__gte=start, created_at__lt=end)
                           .exclude(status=Status.WITHDRAWN))


def _meetings(booths, start, end):
    """Meeting requests asked of each booth: about its projects, or of its staff in person
    (the console inbox's "meetings"; a person staffing two booths counts in both)."""
    asked = Meeting.objects.filter(created_at__gte=start, created_at__lt=end)
    counts = _count_by_booth(asked.filter(project__booth_id__in=booths), "project__booth_id")
    staffs: dict[int, list[int]] = defaultdict(list)
    for booth, user in BoothStaff.objects.filter(booth_id__in=booths).values_list(
            "booth_id", "user_id"):
        staffs[user].append(booth)
    for recipient in asked.filter(project__isnull=True, recipient_id__in=list(staffs)
                                  ).values_list("recipient_id", flat=True):
        for booth in staffs[recipient]:
            counts[booth] = counts.get(booth, 0) + 1
    return counts


FUNNEL_SOURCES["leads"] = _leads
FUNNEL_SOURCES["applications"] = _applications
FUNNEL_SOURCES["meetings"] = _meetings


# --- time ranges ------------------------------------------------------------------------------

def day_range(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, start + timedelta(days=1)


def today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now()).date()


def expo_range(expo: Expo | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """From the expo's first day to the end of its last (or of today, if later events exist)."""
    first = expo.starts_on if expo else today(now)
    last = max(expo.ends_on if expo else today(now), today(now))
    return day_range(first)[0], day_range(last)[1]


def buckets(start: datetime, end: datetime, step: int = STEP) -> int:
    return int((end - start).total_seconds() // step)


# --- per booth --------------------------------------------------------------------------------

def visitor_series(booths: list[int], start: datetime, end: datetime,
                   step: int = STEP) -> dict[int, list[int]]:
    """Per booth: distinct visitors who entered in each step (an anonymous entry counts once
    for each entry)."""
    n = buckets(start, end, step)
    series = {b: [0] * n for b in booths}
    seen: set[tuple[int, int, object]] = set()
    rows = (Event.objects.filter(kind=Kind.ENTER, booth_id__in=booths, roadshow_id__isnull=True,
                                 at__gte=start, at__lt=end)
            .values_list("id", "booth_id", "user_id", "at"))
    for pk, booth, user, at in rows:
        index = int((at - start).total_seconds() // step)
        key = (booth, index, user if user is not None else ("anon", pk))
        if key not in seen:
            seen.add(key)
            series[booth][index] += 1
    return series


def funnel(booths: list[int], start: datetime, end: datetime) -> dict[int, dict]:
    """Per booth: visits, distinct visitors, chat messages, knocks, calls (and their seconds),
    leads, applications, and whatever FUNNEL_SOURCES add."""
    events = Event.objects.filter(booth_id__in=booths, at__gte=start, at__lt=end)
    out = {b: {"visits": 0, "visitors": 0, "chats": 0, "knocks": 0, "calls": 0,
               "call_seconds": 0.0, **dict.fromkeys(FUNNEL_SOURCES, 0)} for b in booths}
    visits = events.filter(kind=Kind.ENTER, roadshow_id__isnull=True)
    for r in visits.values("booth_id").annotate(n=Count("id"),
                                                 u=Count("user_id", distinct=True)):
        out[r["booth_id"]]["visits"] = r["n"]
        out[r["booth_id"]]["visitors"] = r["u"]
    for kind, key in ((Kind.CHAT, "chats"), (Kind.KNOCK, "knocks"), (Kind.CALL, "calls")):
        for booth, n in _count_by_booth(events.filter(kind=kind)).items():
            out[booth][key] = n
    for booth, seconds in events.filter(kind=Kind.CALL).values_list("booth_id", "seconds"):
        out[booth]["call_seconds"] += seconds
    for name, count in FUNNEL_SOURCES.items():
        for booth, n in count(booths, start, end).items():
            out[booth][name] = n
    return out


def hours(booths: list[int], start: datetime, end: datetime) -> dict[int, list[int]]:
    """Per booth: visits by hour of the day (the expo's time zone), 0 to 23."""
    out = {b: [0] * 24 for b in booths}
    tz = timezone.get_current_timezone()
    for booth, at in (Event.objects.filter(kind=Kind.ENTER, booth_id__in=booths,
                                           roadshow_id__isnull=True, at__gte=start, at__lt=end)
                      .values_list("booth_id", "at")):
        out[booth][at.astimezone(tz).hour] += 1
    return out


def _median_series(per_booth: dict[int, list[int]]) -> list[float]:
    columns = list(zip(*per_booth.values(), strict=True))
    return [statistics.median(c) for c in columns] if columns else []


def _ts(moment: datetime) -> float:
    return moment.astimezone(UTC).timestamp()


def booth_charts(booth: Booth, now: datetime | None = None) -> dict:
    """Everything the booth's analytics panel draws, with the hall's median booth beside it."""
    now = now or timezone.now()
    hall_booths = list(Booth.objects.filter(hall_id=booth.hall_id).values_list("pk", flat=True))
    expo = booth.hall.expo if booth.hall_id else None
    day_start, day_end = day_range(today(now))
    all_start, all_end = expo_range(expo, now)
    per_day = visitor_series(hall_booths, day_start, day_end)
    per_expo = visitor_series(hall_booths, all_start, all_end)
    funnels = funnel(hall_booths, all_start, all_end)
    by_hour = hours(hall_booths, all_start, all_end)
    funnel_median = {key: statistics.median(f[key] for f in funnels.values())
                     for key in funnels[booth.pk]}
    return {
        "booth": booth.pk, "step": STEP, "hall_booths": len(hall_booths),
        "today": {"start": _ts(day_start), "counts": per_day[booth.pk],
                  "hall_median": _median_series(per_day)},
        "expo": {"start": _ts(all_start), "counts": per_expo[booth.pk],
                 "hall_median": _median_series(per_expo)},
        "funnel": {"booth": funnels[booth.pk], "hall_median": funnel_median},
        "hours": {"booth": by_hour[booth.pk], "hall_median": _median_series(by_hour)},
    }


# --- expo-wide, for organisers ----------------------------------------------------------------

def concurrent(start: datetime, end: datetime, step: int = STEP) -> list[int]:
    """People in booth and roadshow rooms at the end of each step: visits begun by then minus
    visits ended by then (a leave's visit began ``seconds`` before it)."""
    n = buckets(start, end, step)
    delta = [0] * (n + 1)
    before = 0
    rows = Event.objects.filter(kind__in=[Kind.ENTER, Kind.LEAVE], at__lt=end).values_list(
        "kind", "at")
    for kind, at in rows:
        change = 1 if kind == Kind.ENTER else -1
        if at < start:
            before += change
            continue
        delta[int((at - start).total_seconds() // step)] += change
    out, running = [], before
    for index in range(n):
        running += delta[index]
        out.append(max(0, running))
    return out


def expo_charts(now: datetime | None = None, top: int = 10) -> dict:
    now = now or timezone.now()
    expo = Expo.objects.order_by("pk").first()
    day_start, day_end = day_range(today(now))
    all_start, all_end = expo_range(expo, now)
    visits = Event.objects.filter(kind=Kind.ENTER, roadshow_id__isnull=True, at__gte=all_start,
                                  at__lt=all_end)
    booths = list(visits.values("booth_id").annotate(
        visitors=Count("user_id", distinct=True), visits=Count("id"))
        .order_by("-visitors", "-visits", "booth_id")[:top])
    names = dict(Booth.objects.filter(pk__in=[b["booth_id"] for b in booths])
                 .values_list("pk", "name"))
    halls = list(visits.values("hall_id").annotate(
        visitors=Count("user_id", distinct=True), visits=Count("id"))
        .order_by("-visitors", "-visits", "hall_id"))
    hall_names = dict(Hall.objects.values_list("pk", "name"))
    views = Event.objects.filter(roadshow_id__isnull=False, at__gte=all_start, at__lt=all_end)
    audience = defaultdict(lambda: {"viewers": 0, "views": 0, "watch_seconds": 0.0})
    for r in views.filter(kind=Kind.ENTER).values("roadshow_id").annotate(
            n=Count("id"), u=Count("user_id", distinct=True)):
        audience[r["roadshow_id"]].update(viewers=r["u"], views=r["n"])
    for show, seconds in views.filter(kind=Kind.LEAVE).values_list("roadshow_id", "seconds"):
        audience[show]["watch_seconds"] += seconds
    titles = dict(Roadshow.objects.filter(pk__in=list(audience)).values_list("pk", "title"))
    # Meeting requests asked during the expo, by the state they are in now.
    asked = dict(Meeting.objects.filter(created_at__gte=all_start, created_at__lt=all_end)
                 .values("state").annotate(n=Count("id")).values_list("state", "n"))
    return {
        "step": STEP,
        "concurrent": {"start": _ts(day_start), "counts": concurrent(day_start, day_end)},
        "top_booths": [{"booth": b["booth_id"], "name": names.get(b["booth_id"], ""),
                        "visitors": b["visitors"], "visits": b["visits"]} for b in booths],
        "halls": [{"hall": h["hall_id"], "name": hall_names.get(h["hall_id"], ""),
                   "visitors": h["visitors"], "visits": h["visits"]} for h in halls],
        "roadshows": sorted(({"roadshow": k, "title": titles.get(k, ""), **v}
                             for k, v in audience.items()),
                            key=lambda r: (-r["viewers"], r["roadshow"])),
        "meetings": [{"state": state, "count": asked.get(state, 0)}
                     for state in Meeting.State.values],
    }
