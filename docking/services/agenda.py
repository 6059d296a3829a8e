""""My meetings": one agenda per person (meetings, interview slots, and the roadshows they
bookmarked with the console's bell, ``console.Bookmark``) in their time zone, and the same as an
``.ics`` calendar (made by the icalendar library)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q
from icalendar import Calendar, Event

from booths.models import Roadshow
from console.models import Bookmark
from recruitment.models import Slot

from ..models import Meeting
from . import DockError, display_name


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise DockError("agenda.bad_zone", f"Unknown time zone {name!r}.", 400) from None


def _items(user) -> list[dict]:
    items = []
    meetings = Meeting.objects.select_related("requester__profile", "recipient__profile",
                                              "project").filter(
        Q(requester=user) | Q(recipient=user),
        state__in=[Meeting.State.ACCEPTED, Meeting.State.DONE, Meeting.State.MISSED])
    for m in meetings:
        other = m.recipient if m.requester_id == user.pk else m.requester
        title = f"Meeting with {display_name(other)}"
        if m.project_id:
            title += f" · {m.project.title}"
        items.append({"kind": "meeting", "id": m.pk, "title": title, "state": m.state,
                      "starts_at": m.starts_at, "ends_at": m.ends_at, "uid": f"meeting-{m.pk}"})
    slots = Slot.objects.select_related("booth", "application__job").filter(
        Q(host=user) | Q(application__candidate=user),
        state__in=[Slot.State.BOOKED, Slot.State.OFFERED])
    for s in slots:
        job = s.application.job.title if s.application_id else ""
        items.append({"kind": "interview", "id": s.pk, "state": s.state,
                      "title": f"Interview · {job} · {s.booth.name}", "starts_at": s.starts_at,
                      "ends_at": s.ends_at, "uid": f"interview-{s.pk}"})
    for r in Roadshow.objects.select_related("booth").filter(
            pk__in=Bookmark.objects.filter(user=user).values("roadshow_id")):
        items.append({"kind": "roadshow", "id": r.pk, "state": r.state,
                      "title": f"Roadshow · {r.title} · {r.booth.name}",
                      "starts_at": r.starts_at, "ends_at": r.ends_at, "uid": f"roadshow-{r.pk}"})
    items.sort(key=lambda i: (i["starts_at"], i["kind"], i["id"]))
    return items


def agenda(user, tz: str = "UTC") -> dict:
    where = zone(tz)
    out = []
    for item in _items(user):
        start: datetime = item["starts_at"].astimezone(where)
        out.append({**{k: v for k, v in item.items() if k != "uid"},
                    "starts_at": start.isoformat(),
                    "ends_at": item["ends_at"].astimezone(where).isoformat(),
                    "day": start.date().isoformat()})
    return {"time_zone": where.key, "items": out}


def ics(user, host: str = "hallserver") -> bytes:
    """The agenda as an iCalendar file (times in UTC; calendars show them in local time)."""
    cal = Calendar()
    cal.add("prodid", "-//Hallserver//My meetings//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "My meetings")
    for item in _items(user):
        ev = Event()
        ev.add("uid", f"{item['uid']}@{host}")
        ev.add("summary", item["title"])
        ev.add("dtstart", item["starts_at"])
        ev.add("dtend", item["ends_at"])
        ev.add("dtstamp", item["starts_at"])
        ev.add("status", "CANCELLED" if item["state"] == "missed" else "CONFIRMED")
        cal.add_component(ev)
    return cal.to_ical()
