"""Exports of a booth's inbox sources and its opted-in visitors, as CSV or XLSX (openpyxl)."""

from __future__ import annotations

import csv
import io

from django.contrib.auth import get_user_model
from openpyxl import Workbook

from analytics.models import Event, Kind
from booths.services.identity import display_name

from . import ConsoleError, inbox
from .now import profiles_for_staff

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def visitor_rows(booth_id: int) -> tuple[list[str], list[list]]:
    """The booth's visitors who let booth staff see their profile: first and last visit,
    visits, and the profile snippet. Those who did not are not listed at all."""
    seen: dict[int, dict] = {}
    for user_id, at in (Event.objects.filter(booth_id=booth_id, kind=Kind.ENTER,
                                             roadshow_id__isnull=True, user_id__isnull=False)
                        .order_by("at").values_list("user_id", "at")):
        row = seen.setdefault(user_id, {"first": at, "visits": 0})
        row["last"], row["visits"] = at, row["visits"] + 1
    shown = profiles_for_staff(list(seen))
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=list(shown))
             .select_related("profile")}
    header = ["id", "name", "organisation", "country", "headline", "interests", "visits",
              "first visit", "last visit"]
    rows = []
    for user_id, facts in seen.items():
        profile = shown.get(user_id)
        if profile is None or user_id not in users:
            continue
        rows.append([user_id, display_name(users[user_id]), profile["organisation"],
                     profile["country"], profile["headline"], ", ".join(profile["interests"]),
                     facts["visits"], facts["first"].isoformat(), facts["last"].isoformat()])
    return header, rows


def table(booth_id: int, what: str) -> tuple[list[str], list[list]]:
    if what == "visitors":
        return visitor_rows(booth_id)
    src = inbox.source(what)
    items = inbox.items(booth_id, what)
    return ([name for name, _ in src.columns],
            [[value(item) for _, value in src.columns] for item in items])


def _safe(value):
    """Spreadsheets run a cell starting with = + - @ as a formula: keep such text text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def render(booth_id: int, what: str, fmt: str) -> tuple[bytes, str]:
    if fmt not in FORMATS:
        raise ConsoleError("export.bad_format", "Exports are csv or xlsx.", 400)
    if what != "visitors" and what not in inbox.SOURCES:
        raise ConsoleError("export.bad_source",
                           f"Exports are visitors, {', '.join(inbox.SOURCES)}.", 400)
    header, rows = table(booth_id, what)
    rows = [[_safe(v) for v in row] for row in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        return ("\ufeff" + out.getvalue()).encode("utf-8"), FORMATS[fmt]
    book = Workbook()
    sheet = book.active
    sheet.title = what
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), FORMATS[fmt]
