"""The exhibitor console over HTTP (docs/api.md, "Exhibitor console"): inbox, booth editing,
logo, staff, exports, analytics, roadshow bookmarks.

Refusals of the services (:class:`~console.services.ConsoleError`, with their HTTP ``status``)
go on to the API's one domain-error handler (hallserver/api.py). Every JSON answer has its
schema (``console/schemas.py``, ``analytics/schemas.py``); the logo and the exports are file
downloads, declared by their content types.
"""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import File, Router, Schema, UploadedFile
from ninja import Status as Reply
from pydantic import Field

from accounts.http import logged_in
from analytics.schemas import BoothCharts, ExpoCharts
from analytics.services import stats
from booths.models import Booth, Roadshow
from hallserver.api import download

from .models import Bookmark
from .schemas import (
    Bookmarks,
    BoothTextsOut,
    Consoles,
    InboxChanged,
    InboxCounts,
    InboxPage,
    LogoOut,
    StaffList,
)
from .services import ConsoleError, access, booth, exports, inbox
from .services.booth import BoothEdit

router = Router(tags=["console"])


@router.get("/console", auth=logged_in, response=Consoles)
def my_consoles(request: HttpRequest):
    """The booths the caller staffs (the console's switcher) and whether they organise."""
    ids = access.staffed(request.user)
    names = dict(Booth.objects.filter(pk__in=ids).values_list("pk", "name"))
    return {"booths": [{"id": b, "name": names.get(b, "")} for b in ids],
            "organiser": access.is_organiser(request.user)}


# --- inbox ------------------------------------------------------------------------------------

@router.get("/booths/{booth_id}/inbox", auth=logged_in, response=InboxPage)
def inbox_items(request: HttpRequest, booth_id: int, source: str = "leads"):
    """One source's items (leads, applications, reports) with status, note and read flag."""
    access.console_booth(request.user, booth_id)
    return {"source": source, "items": inbox.items(booth_id, source),
            "statuses": list(inbox.source(source).statuses), "unread": inbox.unread(booth_id)}


@router.get("/booths/{booth_id}/inbox/unread", auth=logged_in, response=InboxCounts)
def inbox_unread(request: HttpRequest, booth_id: int):
    access.console_booth(request.user, booth_id)
    return inbox.unread(booth_id)


class InboxChange(Schema):
    read: bool | None = None
    status: Annotated[str, Field(max_length=20)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


@router.post("/booths/{booth_id}/inbox/{source}/{ref}", auth=logged_in,
             response=InboxChanged)
def inbox_change(request: HttpRequest, booth_id: int, source: str, ref: int,
                 payload: InboxChange):
    """Mark read or unread, set the status, write the note (shared by the booth's staff)."""
    access.console_booth(request.user, booth_id)
    item = inbox.update(request.user, booth_id, source, ref, read=payload.read,
                        status=payload.status, note=payload.note)
    return {"item": item, "unread": inbox.unread(booth_id)}


# --- booth editing ----------------------------------------------------------------------------

@router.get("/booths/{booth_id}/texts", response=BoothTextsOut)
def booth_texts(request: HttpRequest, booth_id: int,
                lang: Annotated[str, Field(max_length=8)] = "en"):
    """The booth's name, tagline and description in ``lang`` (falling back to English), all
    its languages, tags, links and logo. Public."""
    found = Booth.objects.filter(pk=booth_id).first()
    if found is None:
        raise ConsoleError("booth.not_found", f"No booth {booth_id}.", 404)
    return booth.booth_data(found, lang)


@router.put("/booths/{booth_id}/texts", auth=logged_in, response=BoothTextsOut)
def edit_booth(request: HttpRequest, booth_id: int, payload: BoothEdit):
    return booth.edit(access.console_booth(request.user, booth_id), payload)


@router.post("/booths/{booth_id}/logo", auth=logged_in, response=LogoOut)
def upload_logo(request: HttpRequest, booth_id: int, file: File[UploadedFile]):
    """A PNG, JPEG, GIF or WebP image (at most ``HALLSERVER_LOGO_MAX_BYTES``), stored as a PNG
    no larger than ``HALLSERVER_LOGO_MAX_PIXELS``."""
    found = access.console_booth(request.user, booth_id)
    return booth.save_logo(found, file, file.size or 0)


@router.get("/booths/{booth_id}/logo", openapi_extra=download("image/png"))
def logo(request: HttpRequest, booth_id: int):
    found = Booth.objects.filter(pk=booth_id).first()
    path = booth.logo_path(found) if found else None
    if path is None:
        raise ConsoleError("logo.not_found", f"Booth {booth_id} has no uploaded logo.", 404)
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=86400"
    return response


@router.get("/booths/{booth_id}/staff", auth=logged_in, response=StaffList)
def staff(request: HttpRequest, booth_id: int):
    return {"staff": booth.staff_list(access.console_booth(request.user, booth_id))}


class Invite(Schema):
    username: Annotated[str, Field(min_length=1, max_length=150)]
    title: Annotated[str, Field(max_length=120)] = ""


@router.post("/booths/{booth_id}/staff", auth=logged_in, response=StaffList)
def invite(request: HttpRequest, booth_id: int, payload: Invite):
    """Add a registered user to the booth's staff."""
    found = access.console_booth(request.user, booth_id)
    return {"staff": booth.invite(found, payload.username, payload.title)}


@router.delete("/booths/{booth_id}/staff/{user_id}", auth=logged_in, response=StaffList)
def remove_staff(request: HttpRequest, booth_id: int, user_id: int):
    found = access.console_booth(request.user, booth_id)
    return {"staff": booth.remove(found, user_id)}


# --- exports and analytics ----------------------------------------------------------------------

@router.get("/booths/{booth_id}/exports/{what}", auth=logged_in,
            openapi_extra=download(*exports.FORMATS.values()))
def export(request: HttpRequest, booth_id: int, what: str,
           format: Literal["csv", "xlsx"] = "csv"):
    """Leads, applications, reports or opted-in visitors as a CSV or XLSX download."""
    access.console_booth(request.user, booth_id)
    body, content_type = exports.render(booth_id, what, format)
    response = HttpResponse(body, content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = (
        f'attachment; filename="booth{booth_id}-{what}-{stamp}.{format}"')
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/booths/{booth_id}/analytics", auth=logged_in, response=BoothCharts)
def booth_analytics(request: HttpRequest, booth_id: int):
    """The booth's charts: visitors per 5 minutes (today, the whole expo), the funnel, busiest
    hours, each with the hall's median booth."""
    return stats.booth_charts(access.console_booth(request.user, booth_id))


@router.get("/analytics/expo", auth=logged_in, response=ExpoCharts)
def expo_analytics(request: HttpRequest):
    """Organisers: concurrent visitors today, top booths and halls, roadshow audiences."""
    access.need_organiser(request.user)
    return stats.expo_charts()


# --- roadshow bookmarks (the bell reminds shortly before the start) ----------------------------

@router.get("/bookmarks", auth=logged_in, response=Bookmarks)
def bookmarks(request: HttpRequest):
    return {"roadshows": list(Bookmark.objects.filter(user=request.user)
                              .values_list("roadshow_id", flat=True).order_by("roadshow_id"))}


@router.post("/roadshows/{roadshow_id}/bookmark", auth=logged_in, response={204: None})
def bookmark(request: HttpRequest, roadshow_id: int):
    if not Roadshow.objects.filter(pk=roadshow_id).exists():
        raise ConsoleError("roadshow.not_found", f"No roadshow {roadshow_id}.", 404)
    Bookmark.objects.get_or_create(user=request.user, roadshow_id=roadshow_id)
    return Reply(204, None)


@router.delete("/roadshows/{roadshow_id}/bookmark", auth=logged_in, response={204: None})
def unbookmark(request: HttpRequest, roadshow_id: int):
    Bookmark.objects.filter(user=request.user, roadshow_id=roadshow_id).delete()
    return Reply(204, None)
