"""The exhibitor console over HTTP: inbox, booth editing, logo, staff, exports, analytics,
bookmarks; every refusal (docs/permissions.md, "Exhibitor console") and bad input."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from accounts.models import Account
from analytics.models import Event
from booths.models import BoothStaff, Roadshow
from console.models import Bookmark, InboxState
from console.services.reminders import remind_due
from recruitment.models import Application, Job, Notice
from streaming.models import Lead
from tests.recruitment_world import make_user, make_world

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "MEDIA_DIR": str(tmp_path / "media")}
    return tmp_path / "media"


@pytest.fixture
def world():
    w = make_world()
    a = w["booth_a"]
    w["leads"] = [Lead.objects.create(booth=a, user=w["vera"], name="Vera", contact="v@x.org",
                                      message="call me"),
                  Lead.objects.create(booth=a, user=w["walt"], name="Walt",
                                      contact="=HYPERLINK(\"x\")", message="hi")]
    job = Job.objects.create(booth=a, title="Chemist", job_type="full_time")
    w["application"] = Application.objects.create(job=job, booth=a, candidate=w["vera"],
                                                  cover_note="<b>keen</b>")
    return w


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]["code"]


def png(width: int = 1200, height: int = 600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def logo_upload(client, booth: int, content: bytes, name="logo.png", kind="image/png"):
    return client.post(f"/api/booths/{booth}/logo",
                       {"file": SimpleUploadedFile(name, content, kind)})


# --- permissions ----------------------------------------------------------------------------------

def test_staff_of_another_booth_is_refused_everything(world, _media):
    a = world["booth_a"].pk
    other = as_user(world["staff_b"])
    lead = world["leads"][0].pk
    refused = [
        other.get(f"/api/booths/{a}/inbox"),
        other.get(f"/api/booths/{a}/inbox?source=applications"),
        other.get(f"/api/booths/{a}/inbox/unread"),
        post(other, f"/api/booths/{a}/inbox/leads/{lead}", {"read": True}),
        other.put(f"/api/booths/{a}/texts", {"texts": {"en": {"name": "Mine"}}},
                  content_type="application/json"),
        logo_upload(other, a, png()),
        other.get(f"/api/booths/{a}/staff"),
        post(other, f"/api/booths/{a}/staff", {"username": "staff_b"}),
        other.delete(f"/api/booths/{a}/staff/{world['staff_a'].pk}"),
        other.get(f"/api/booths/{a}/exports/leads?format=csv"),
        other.get(f"/api/booths/{a}/exports/visitors?format=xlsx"),
        other.get(f"/api/booths/{a}/analytics"),
        other.get("/api/analytics/expo"),
    ]
    for response in refused:
        assert error_of(response, 403) == "console.forbidden"
    # A booth that does not exist answers the same to non-staff: nothing is revealed.
    assert error_of(other.get("/api/booths/999999/inbox"), 403) == "console.forbidden"
    anonymous = Client()
    assert error_of(anonymous.get(f"/api/booths/{a}/inbox"), 401) == "auth.required"
    assert error_of(anonymous.get(f"/api/booths/{a}/analytics"), 401) == "auth.required"
    # Nothing changed.
    assert not InboxState.objects.exists()
    assert BoothStaff.objects.filter(booth_id=a).count() == 2
    assert not (_media / "logos").exists()


def test_organisers_read_any_booth_and_the_expo(world):
    organiser = make_user("org", "Olga Organiser")
    organiser.is_staff = True
    organiser.save()
    client = as_user(organiser)
    assert client.get(f"/api/booths/{world['booth_b'].pk}/analytics").status_code == 200
    assert client.get("/api/analytics/expo").status_code == 200
    assert error_of(client.get("/api/booths/999999/inbox"), 404) == "booth.not_found"


def test_my_consoles_lists_the_booths_i_staff(world):
    BoothStaff.objects.create(booth=world["booth_b"], user=world["staff_a"])
    data = as_user(world["staff_a"]).get("/api/console").json()
    assert [b["id"] for b in data["booths"]] == sorted([world["booth_a"].pk,
                                                        world["booth_b"].pk])
    assert data["organiser"] is False


# --- inbox --------------------------------------------------------------------------------------

def test_inbox_status_notes_and_unread_counts_are_shared_by_the_team(world):
    a = world["booth_a"].pk
    alice, arno = as_user(world["staff_a"]), as_user(world["staff_a2"])
    data = alice.get(f"/api/booths/{a}/inbox").json()
    assert [i["who"]["name"] for i in data["items"]] == ["Walt", "Vera"]
    assert data["unread"] == {"booth": a, "sources": {"leads": 2, "applications": 1,
                                                      "reports": 0, "meetings": 0},
                              "total": 3}
    assert all(i["status"] == "new" and not i["read"] for i in data["items"])
    lead = world["leads"][0].pk
    changed = post(alice, f"/api/booths/{a}/inbox/leads/{lead}",
                   {"status": "done", "note": "  called back  "}).json()
    assert changed["item"]["status"] == "done" and changed["item"]["note"] == "called back"
    assert changed["item"]["read"] is True and changed["unread"]["total"] == 2
    assert Lead.objects.get(pk=lead).handled is True
    # The colleague sees the same state and counts.
    again = arno.get(f"/api/booths/{a}/inbox").json()
    assert {i["ref"]: i["status"] for i in again["items"]} == {
        lead: "done", world["leads"][1].pk: "new"}
    assert arno.get(f"/api/booths/{a}/inbox/unread").json()["total"] == 2
    post(arno, f"/api/booths/{a}/inbox/leads/{lead}", {"read": False})
    assert alice.get(f"/api/booths/{a}/inbox/unread").json()["total"] == 3


def test_inbox_moves_applications_through_the_recruitment_pipeline(world):
    a = world["booth_a"].pk
    app = world["application"].pk
    alice = as_user(world["staff_a"])
    items = alice.get(f"/api/booths/{a}/inbox?source=applications").json()["items"]
    assert items[0]["text"] == "<b>keen</b>" and items[0]["status"] == "submitted"
    item = post(alice, f"/api/booths/{a}/inbox/applications/{app}",
                {"status": "shortlisted"}).json()["item"]
    assert item["status"] == "shortlisted"
    assert Application.objects.get(pk=app).status == "shortlisted"
    # The candidate hears of it through the recruitment notices.
    assert Notice.objects.filter(user=world["vera"], kind="application.status").exists()
    code = error_of(post(alice, f"/api/booths/{a}/inbox/applications/{app}",
                         {"status": "submitted"}), 409)
    assert code == "application.bad_status"


def test_inbox_bad_input(world):
    a = world["booth_a"].pk
    alice = as_user(world["staff_a"])
    lead = world["leads"][0].pk
    assert error_of(alice.get(f"/api/booths/{a}/inbox?source=nope"), 400) == "inbox.bad_source"
    assert error_of(post(alice, f"/api/booths/{a}/inbox/leads/{lead}", {"status": "won"}),
                    400) == "inbox.bad_status"
    assert error_of(post(alice, f"/api/booths/{a}/inbox/leads/999999", {"read": True}),
                    404) == "inbox.not_found"
    # A lead of another booth is not this booth's item.
    b_lead = Lead.objects.create(booth=world["booth_b"], name="X", contact="x")
    assert error_of(post(alice, f"/api/booths/{a}/inbox/leads/{b_lead.pk}", {"read": True}),
                    404) == "inbox.not_found"
    assert error_of(post(alice, f"/api/booths/{a}/inbox/leads/{lead}", {"note": "x" * 3000}),
                    422) == "request.invalid"
    assert not InboxState.objects.exists()


# --- booth editing --------------------------------------------------------------------------------

def test_booth_texts_per_language_with_fallback(world):
    a = world["booth_a"].pk
    alice = as_user(world["staff_a"])
    body = {"texts": {"en": {"name": "Acme", "tagline": "Chemistry <script>x()</script>",
                             "description": "We make <img src=x onerror=alert(1)>"},
                      "zh": {"name": "阿克米", "tagline": "", "description": ""}},
            "tags": ["chem", "<b>bio</b>", "chem"],
            "links": [{"label": "Site", "url": "https://acme.example"}]}
    data = alice.put(f"/api/booths/{a}/texts", body, content_type="application/json").json()
    assert data["name"] == "Acme" and data["tags"] == ["chem", "<b>bio</b>"]
    zh = Client().get(f"/api/booths/{a}/texts?lang=zh").json()
    assert zh["name"] == "阿克米"
    assert zh["tagline"] == "Chemistry <script>x()</script>"  # stored as text, English fallback
    ru = Client().get(f"/api/booths/{a}/texts?lang=ru").json()
    assert ru["name"] == "Acme"
    world["booth_a"].refresh_from_db()
    assert world["booth_a"].name_zh == "阿克米" and world["booth_a"].links[0]["label"] == "Site"


def test_booth_edit_bad_input(world):
    a = world["booth_a"].pk
    alice = as_user(world["staff_a"])

    def put(body):
        return alice.put(f"/api/booths/{a}/texts", body, content_type="application/json")

    assert error_of(put({"texts": {"zh": {"name": "只有中文"}}}), 400) == "booth.invalid"
    assert error_of(put({"texts": {"en": {"name": "A"}, "xx": {"name": "B"}}}),
                    400) == "booth.bad_language"
    bad_link = {"texts": {"en": {"name": "A"}},
                "links": [{"label": "x", "url": "javascript:alert(1)"}]}
    assert error_of(put(bad_link), 422) == "request.invalid"
    world["booth_a"].refresh_from_db()
    assert world["booth_a"].name == "Acme Labs"


def test_logo_is_checked_resized_and_served(world, _media, settings):
    a = world["booth_a"].pk
    alice = as_user(world["staff_a"])
    data = logo_upload(alice, a, png()).json()
    assert (data["width"], data["height"]) == (512, 256)
    served = Client().get(f"/api/booths/{a}/logo")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(b"".join(served.streaming_content))) as image:
        assert image.size == (512, 256)
    assert len(list((_media / "logos").iterdir())) == 1
    # A second upload replaces the first file.
    logo_upload(alice, a, png(100, 100))
    assert len(list((_media / "logos").iterdir())) == 1


def test_logo_refuses_large_and_non_image_files(world, _media):
    a = world["booth_a"].pk
    alice = as_user(world["staff_a"])
    twenty_mb = png(10, 10) + b"\0" * (20 * 1024 * 1024)
    assert error_of(logo_upload(alice, a, twenty_mb), 413) == "logo.too_large"
    assert error_of(logo_upload(alice, a, b"<script>alert(1)</script>", "logo.png"),
                    415) == "logo.not_image"
    assert error_of(logo_upload(alice, a, png()[:200]), 415) == "logo.not_image"
    world["booth_a"].refresh_from_db()
    assert world["booth_a"].logo_url == ""
    assert not (_media / "logos").exists() or not list((_media / "logos").iterdir())


def test_staff_invite_and_remove(world):
    a = world["booth_a"].pk
    alice = as_user(world["staff_a"])
    assert error_of(post(alice, f"/api/booths/{a}/staff", {"username": "nobody"}),
                    404) == "user.not_found"
    assert error_of(post(alice, f"/api/booths/{a}/staff", {"username": "guest-abc"}),
                    409) == "staff.guest"
    staff = post(alice, f"/api/booths/{a}/staff", {"username": "vera", "title": "Intern"})
    assert [s["username"] for s in staff.json()["staff"]] == ["staff_a", "staff_a2", "vera"]
    assert error_of(post(alice, f"/api/booths/{a}/staff", {"username": "vera"}),
                    409) == "staff.exists"
    # Vera now has the console; once removed, she has not.
    vera = as_user(world["vera"])
    assert vera.get(f"/api/booths/{a}/inbox").status_code == 200
    left = alice.delete(f"/api/booths/{a}/staff/{world['vera'].pk}").json()["staff"]
    assert [s["username"] for s in left] == ["staff_a", "staff_a2"]
    assert error_of(vera.get(f"/api/booths/{a}/inbox"), 403) == "console.forbidden"
    assert error_of(alice.delete(f"/api/booths/{a}/staff/{world['vera'].pk}"),
                    404) == "staff.not_found"
    alice.delete(f"/api/booths/{a}/staff/{world['staff_a2'].pk}")
    assert error_of(alice.delete(f"/api/booths/{a}/staff/{world['staff_a'].pk}"),
                    409) == "staff.last"


# --- exports ----------------------------------------------------------------------------------

def test_exports_hold_the_rows_the_inbox_shows(world):
    a = world["booth_a"].pk
    alice = as_user(world["staff_a"])
    shown = alice.get(f"/api/booths/{a}/inbox").json()["items"]
    response = alice.get(f"/api/booths/{a}/exports/leads?format=csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["id", "received", "name", "contact"]
    assert [(int(r[0]), r[2], r[4]) for r in rows[1:]] == [
        (i["ref"], i["who"]["name"], i["text"]) for i in shown]
    # A formula in a cell stays text.
    assert rows[1][3] == "'=HYPERLINK(\"x\")"
    xlsx = alice.get(f"/api/booths/{a}/exports/applications?format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.values)
    assert values[0][:3] == ("id", "received", "name")
    assert [(v[0], v[2], v[3]) for v in values[1:]] == [
        (world["application"].pk, "Vera Visitor", "Chemist")]
    assert error_of(alice.get(f"/api/booths/{a}/exports/leads?format=pdf"),
                    400) == "query.invalid"
    assert error_of(alice.get(f"/api/booths/{a}/exports/secrets?format=csv"),
                    400) == "export.bad_source"


def test_visitor_export_lists_only_those_who_allow_it(world):
    a = world["booth_a"]
    now = timezone.now()
    Account.objects.create(user=world["walt"], visible_to_booth_staff=False)
    Account.objects.create(user=world["vera"], headline="Chemist", visible_to_booth_staff=True)
    for user in (world["vera"], world["vera"], world["walt"]):
        Event.objects.create(kind="enter", booth_id=a.pk, hall_id=a.hall_id, user_id=user.pk,
                             at=now)
    response = as_user(world["staff_a"]).get(f"/api/booths/{a.pk}/exports/visitors?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["Vera Visitor"]
    assert rows[1][4] == "Chemist" and rows[1][6] == "2"
    assert "Walt" not in response.content.decode()


# --- the bell -------------------------------------------------------------------------------------

def test_a_new_lead_rings_the_bell_of_the_booth_staff(world):
    Lead.objects.create(booth=world["booth_a"], name="Nia", contact="n@x.org")
    got = set(Notice.objects.filter(kind="lead.new").values_list("user_id", flat=True))
    assert got == {world["staff_a"].pk, world["staff_a2"].pk}


def test_bookmarked_roadshows_are_reminded_once_shortly_before(world):
    now = timezone.now()
    soon = Roadshow.objects.create(booth=world["booth_a"], title="Soon",
                                   starts_at=now + timedelta(minutes=5),
                                   ends_at=now + timedelta(minutes=35))
    later = Roadshow.objects.create(booth=world["booth_a"], title="Later",
                                    starts_at=now + timedelta(hours=2),
                                    ends_at=now + timedelta(hours=3))
    vera = as_user(world["vera"])
    for show in (soon, later):
        assert vera.post(f"/api/roadshows/{show.pk}/bookmark").status_code == 204
    assert vera.get("/api/bookmarks").json()["roadshows"] == [soon.pk, later.pk]
    assert error_of(vera.post("/api/roadshows/999999/bookmark"), 404) == "roadshow.not_found"
    assert remind_due(now) == 1
    assert remind_due(now) == 0
    notice = Notice.objects.get(user=world["vera"], kind="roadshow.soon")
    assert notice.data["roadshow"] == soon.pk
    assert remind_due(now + timedelta(hours=1, minutes=55)) == 1
    assert Bookmark.objects.filter(reminded=True).count() == 2
