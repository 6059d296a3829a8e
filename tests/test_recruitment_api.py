"""Recruitment over HTTP (docs/api.md, "Recruitment"): résumés and their PDFs, jobs and the CSV
import, applications and their pipeline, interview slots; every refusal and bad input."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import Account
from recruitment.models import Application, ApplicationEvent, Job, Notice, Resume, Slot
from recruitment.services import notices
from tests.recruitment_world import make_pdf, make_world

pytestmark = [pytest.mark.django_db]

JOB = {"title": "Catalysis postdoc", "description": "Zwei Jahre, 两年", "job_type": "postdoc",
       "fields": ["chemistry"], "place": "Berlin", "country": "de", "remote": False,
       "salary_min": 50000, "salary_max": 60000, "currency": "eur", "languages": ["en"],
       "deadline": None}
RESUME = {"summary": "Chemist", "education": [{"school": "TU", "degree": "PhD",
                                                "start": "2019", "end": "2023-06"}],
          "experience": [{"employer": "Lab", "title": "Researcher"}],
          "skills": ["catalysis", "python"], "languages": [{"language": "de", "level": "C2"}],
          "job_types": ["postdoc"], "places": ["Berlin"]}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "MEDIA_DIR": str(tmp_path / "media")}
    return tmp_path / "media"


@pytest.fixture
def world():
    return make_world()


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, path, data=None):
    return client.post(path, data or {}, content_type="application/json")


def put(client, path, data):
    return client.put(path, data, content_type="application/json")


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]["code"]


def upload(client, content: bytes, name: str = "cv.pdf", kind: str = "application/pdf"):
    return client.post("/api/resume/pdf", {"file": SimpleUploadedFile(name, content, kind)})


def stored_files(media: Path) -> list[Path]:
    folder = media / "resumes"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def job(world) -> dict:
    response = post(as_user(world["staff_a"]), f"/api/booths/{world['booth_a'].pk}/jobs", JOB)
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def applied(world, job) -> dict:
    """Vera applied to booth A's job with a résumé and a PDF."""
    vera = as_user(world["vera"])
    assert put(vera, "/api/resume", RESUME).status_code == 200
    assert upload(vera, make_pdf()).status_code == 200
    response = post(vera, f"/api/jobs/{job['id']}/apply", {"cover_note": "Hello"})
    assert response.status_code == 201, response.content
    return response.json()


# --- résumés ------------------------------------------------------------------------------------

def test_resume_edit_upload_download_delete(world, _media):
    vera = as_user(world["vera"])
    assert error_of(vera.get("/api/resume"), 404) == "resume.not_found"
    saved = put(vera, "/api/resume", RESUME).json()
    assert saved["data"]["skills"] == ["catalysis", "python"] and saved["pdf"] is None

    response = upload(vera, make_pdf("Organic chemistry and Rust"), name="Vera CV.pdf")
    assert response.status_code == 200, response.content
    assert response.json()["pdf"]["name"] == "Vera CV.pdf"
    resume = Resume.objects.get(user=world["vera"])
    assert "Organic chemistry and Rust" in resume.pdf_text
    (stored,) = stored_files(_media)
    assert stored.name == resume.pdf_file and stored.name != "Vera CV.pdf"

    download = vera.get("/api/resume/pdf")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == make_pdf("Organic chemistry and Rust")

    # A new PDF replaces the old file.
    upload(vera, make_pdf("second"))
    (second,) = stored_files(_media)
    assert second != stored

    assert vera.delete("/api/resume").status_code == 204
    assert stored_files(_media) == []
    assert not Resume.objects.filter(user=world["vera"]).exists()
    assert error_of(vera.get("/api/resume/pdf"), 404) == "resume.not_found"


def test_resume_refuses_bad_structure(world):
    vera = as_user(world["vera"])
    for bad in ({**RESUME, "job_types": ["astronaut"]},
                {**RESUME, "education": [{"school": ""}]},
                {**RESUME, "education": [{"school": "x", "start": "last year"}]},
                {**RESUME, "skills": ["x" * 61]}, {**RESUME, "hobby": "x"}):
        assert error_of(put(vera, "/api/resume", bad), 422) == "request.invalid"
    assert not Resume.objects.exists()


def test_pdf_bad_inputs_change_nothing(world, _media, settings):
    vera = as_user(world["vera"])
    upload(vera, make_pdf("the good one"), name="good.pdf")
    before = Resume.objects.get(user=world["vera"])
    files = stored_files(_media)

    # A text file renamed .pdf, an HTML page with a PDF name, a truncated PDF.
    assert error_of(upload(vera, b"just text, honestly", "cv.pdf"), 400) == "resume.not_pdf"
    assert error_of(upload(vera, b"<html><script>alert(1)</script>", "cv.pdf"),
                    400) == "resume.not_pdf"
    assert error_of(upload(vera, b"%PDF-1.4\n%garbage without objects", "cv.pdf"),
                    400) == "resume.not_pdf"
    # 6 MB, even if it starts like a PDF.
    big = make_pdf() + b"%" + b"x" * (6 * 1024 * 1024)
    assert error_of(upload(vera, big, "big.pdf"), 413) == "resume.too_large"

    after = Resume.objects.get(user=world["vera"])
    assert (after.pdf_file, after.pdf_name, after.pdf_text) == (
        before.pdf_file, before.pdf_name, before.pdf_text)
    assert stored_files(_media) == files


def test_pdf_file_name_with_path_and_script_characters(world, _media):
    vera = as_user(world["vera"])
    name = '../../etc/<script>alert("x")</script>.pdf'
    assert upload(vera, make_pdf(), name=name).status_code == 200
    resume = Resume.objects.get(user=world["vera"])
    assert "/" not in resume.pdf_name and "<" not in resume.pdf_name
    assert '"' not in resume.pdf_name and resume.pdf_name.endswith(".pdf")
    (stored,) = stored_files(_media)
    assert stored.parent == _media / "resumes"
    disposition = vera.get("/api/resume/pdf")["Content-Disposition"]
    assert "<" not in disposition and "/" not in disposition.split("filename=")[1]


def test_who_may_read_a_resume(world, applied):
    vera_id, app_id = world["vera"].pk, applied["id"]
    staff_a, staff_b = as_user(world["staff_a"]), as_user(world["staff_b"])
    walt = as_user(world["walt"])
    # Staff of the booth she applied to, through the application.
    assert staff_a.get(f"/api/applications/{app_id}/resume").json()["data"]["skills"]
    pdf = staff_a.get(f"/api/applications/{app_id}/resume/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    # Staff of another booth, another visitor: 404 as if there were none.
    for client in (staff_b, walt):
        assert error_of(client.get(f"/api/applications/{app_id}/resume"),
                        404) == "resume.not_found"
        assert error_of(client.get(f"/api/applications/{app_id}/resume/pdf"),
                        404) == "resume.not_found"
        assert error_of(client.get(f"/api/users/{vera_id}/resume"), 404) == "resume.not_found"
    # Talent search: staff of any booth once she opts in; never other visitors.
    assert error_of(staff_b.get(f"/api/users/{vera_id}/resume/pdf"), 404) == "resume.not_found"
    assert staff_b.get("/api/talent?q=python").json() == {"results": []}
    Account.objects.update_or_create(user=world["vera"], defaults={"talent_search": True})
    assert staff_b.get(f"/api/users/{vera_id}/resume").status_code == 200
    assert staff_b.get(f"/api/users/{vera_id}/resume/pdf").status_code == 200
    (found,) = staff_b.get("/api/talent?q=Django").json()["results"]  # from the PDF's text
    assert found["user"] == vera_id
    assert error_of(walt.get(f"/api/users/{vera_id}/resume"), 404) == "resume.not_found"
    assert error_of(walt.get("/api/talent"), 403) == "booth.not_staff"
    # Withdrawn: the booth loses access through the application.
    post(as_user(world["vera"]), f"/api/applications/{app_id}/withdraw")
    assert error_of(staff_a.get(f"/api/applications/{app_id}/resume"),
                    404) == "resume.not_found"


# --- jobs ---------------------------------------------------------------------------------------

def test_job_crud_close_reopen_and_directory(world, job):
    staff = as_user(world["staff_a"])
    assert job["country"] == "DE" and job["currency"] == "EUR" and job["is_open"]
    edited = put(staff, f"/api/jobs/{job['id']}", {**JOB, "title": "Senior postdoc",
                                                   "remote": True}).json()
    assert edited["title"] == "Senior postdoc" and edited["remote"] is True
    post(staff, f"/api/booths/{world['booth_b'].pk}/jobs", JOB)  # refused below
    anyone = Client()
    listing = anyone.get("/api/jobs?remote=true&field=chem&booth_kind=company&country=DE").json()
    assert [j["id"] for j in listing["results"]] == [job["id"]] and listing["count"] == 1
    assert anyone.get("/api/jobs?job_type=internship").json()["count"] == 0
    assert anyone.get(f"/api/jobs?booth={world['booth_a'].pk}").json()["count"] == 1
    assert anyone.get(f"/api/jobs/{job['id']}").json()["description"] == "Zwei Jahre, 两年"

    assert post(staff, f"/api/jobs/{job['id']}/close").json()["is_open"] is False
    assert anyone.get("/api/jobs").json()["count"] == 0
    assert error_of(anyone.get(f"/api/jobs/{job['id']}"), 404) == "job.not_found"
    assert staff.get(f"/api/jobs/{job['id']}").status_code == 200  # staff still see it
    assert len(staff.get(f"/api/booths/{world['booth_a'].pk}/jobs").json()["results"]) == 1
    assert post(staff, f"/api/jobs/{job['id']}/reopen").json()["is_open"] is True
    assert anyone.get("/api/jobs").json()["count"] == 1
    assert error_of(anyone.get("/api/jobs?job_type=astronaut"), 400) == "query.invalid"


def test_job_refusals(world, job):
    staff_b, vera = as_user(world["staff_b"]), as_user(world["vera"])
    booth_a = world["booth_a"].pk
    for client in (staff_b, vera):
        assert error_of(post(client, f"/api/booths/{booth_a}/jobs", JOB),
                        403) == "booth.not_staff"
        assert error_of(put(client, f"/api/jobs/{job['id']}", JOB), 403) == "booth.not_staff"
        assert error_of(post(client, f"/api/jobs/{job['id']}/close"), 403) == "booth.not_staff"
        assert error_of(client.get(f"/api/booths/{booth_a}/jobs"), 403) == "booth.not_staff"
    assert error_of(post(Client(), f"/api/booths/{booth_a}/jobs", JOB), 401) == "auth.required"
    staff_a = as_user(world["staff_a"])
    assert error_of(post(staff_a, "/api/booths/999999/jobs", JOB), 404) == "booth.not_found"
    for bad in ({**JOB, "salary_min": 9, "salary_max": 1}, {**JOB, "currency": ""},
                {**JOB, "job_type": "astronaut"}, {**JOB, "title": ""}):
        assert error_of(post(staff_a, f"/api/booths/{booth_a}/jobs", bad),
                        422) == "request.invalid"
    assert Job.objects.count() == 1
    assert Job.objects.get().title == JOB["title"]


def csv_upload(client, booth: int, text: str):
    return client.post(f"/api/booths/{booth}/jobs/import",
                       {"file": SimpleUploadedFile("jobs.csv", text.encode(), "text/csv")})


def test_csv_import_all_or_nothing(world):
    staff, booth = as_user(world["staff_a"]), world["booth_a"].pk
    good = ("title,job_type,fields,remote,country,salary_min,salary_max,currency,deadline\n"
            "Chemist,full_time,chemistry;lab,yes,DE,1,2,EUR,2027-01-31\n"
            "Intern,internship,,no,,,,,\n")
    response = csv_upload(staff, booth, good)
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2
    chemist = Job.objects.get(title="Chemist")
    assert chemist.fields == ["chemistry", "lab"] and chemist.remote

    broken = ("title,job_type,remote,salary_min,currency,deadline\n"
              "Fine,full_time,no,,,\n"
              ",full_time,no,,,\n"                       # no title
              "Pilot,astronaut,no,,,\n"                  # unknown type
              "Rich,full_time,maybe,-5,EUR,31/01/2027\n"  # three bad cells
              "Extra,full_time,no,,,,surplus\n")          # more cells than columns
    response = csv_upload(staff, booth, broken)
    assert error_of(response, 400) == "job.import_invalid"
    rows = response.json()["error"]["rows"]
    assert [r["row"] for r in rows] == [3, 4, 5, 6]
    assert len(rows[2]["errors"]) == 3
    assert Job.objects.count() == 2  # nothing of the broken file was imported

    for text in ("name,kind\nx,y\n", "title,job_type\n", "\xff\xfe"):
        assert error_of(csv_upload(staff, booth, text), 400) == "job.import_invalid"
    assert error_of(csv_upload(as_user(world["staff_b"]), booth, good),
                    403) == "booth.not_staff"
    assert Job.objects.count() == 2


# --- applications -------------------------------------------------------------------------------

def test_apply_pipeline_audit_and_notices(world, applied):
    staff, vera = as_user(world["staff_a"]), as_user(world["vera"])
    app_id = applied["id"]
    assert applied["status"] == "submitted" and "events" not in applied
    # Both staff members of booth A got a notice; the booth's unread count is 1.
    for member in ("staff_a", "staff_a2"):
        (notice,) = Notice.objects.filter(user=world[member])
        assert notice.kind == "application.new" and notice.data["application"] == app_id
    assert notices.unread(world["staff_a"].pk)["booths"] == {str(world["booth_a"].pk): 1}

    (listed,) = staff.get(f"/api/booths/{world['booth_a'].pk}/applications").json()["results"]
    assert listed["candidate"]["name"] == "Vera Visitor"
    opened = staff.get(f"/api/applications/{app_id}").json()
    assert opened["status"] == "viewed"
    assert notices.unread(world["staff_a"].pk)["booths"] == {str(world["booth_a"].pk): 0}

    assert opened["profile"]["display_name"] == "Vera Visitor" and "talent_search" not in (
        opened["profile"])
    moved = post(staff, f"/api/applications/{app_id}/status",
                 {"status": "shortlisted", "note": "strong"}).json()
    assert moved["status"] == "shortlisted"
    assert [(e["from"], e["to"], e["by"]["name"]) for e in moved["events"]] == [
        ("", "submitted", "Vera Visitor"), ("submitted", "viewed", "Alice Staff"),
        ("viewed", "shortlisted", "Alice Staff")]
    kinds = list(Notice.objects.filter(user=world["vera"]).values_list("kind", "data__status"))
    assert kinds == [("application.status", "viewed"), ("application.status", "shortlisted")]
    (mine,) = vera.get("/api/applications").json()["results"]
    assert mine["status"] == "shortlisted" and "events" not in mine

    assert error_of(post(staff, f"/api/applications/{app_id}/status", {"status": "viewed"}),
                    409) == "application.bad_status"
    assert error_of(post(staff, f"/api/applications/{app_id}/status", {"status": "withdrawn"}),
                    400) == "application.bad_status"
    assert post(vera, f"/api/applications/{app_id}/withdraw").json()["status"] == "withdrawn"
    assert error_of(post(vera, f"/api/applications/{app_id}/withdraw"),
                    409) == "application.final"
    # Withdrawn, she may apply again.
    again = post(vera, f"/api/jobs/{applied['job']['id']}/apply", {})
    assert again.status_code == 201


def test_application_refusals(world, job, applied):
    app_id, booth_a, booth_b = applied["id"], world["booth_a"].pk, world["booth_b"].pk
    staff_b, walt = as_user(world["staff_b"]), as_user(world["walt"])
    # Staff of booth B cannot list, read or move booth A's applications.
    assert error_of(staff_b.get(f"/api/booths/{booth_a}/applications"),
                    403) == "booth.not_staff"
    assert error_of(staff_b.get(f"/api/applications/{app_id}"), 404) == "application.not_found"
    assert error_of(post(staff_b, f"/api/applications/{app_id}/status",
                         {"status": "shortlisted"}), 404) == "application.not_found"
    # Another visitor sees only their own.
    assert walt.get("/api/applications").json() == {"results": []}
    assert error_of(walt.get(f"/api/applications/{app_id}"), 404) == "application.not_found"
    assert error_of(post(walt, f"/api/applications/{app_id}/withdraw"),
                    404) == "application.not_found"
    assert error_of(walt.get(f"/api/booths/{booth_b}/applications"), 403) == "booth.not_staff"
    # The candidate cannot move her own application.
    vera = as_user(world["vera"])
    assert error_of(post(vera, f"/api/applications/{app_id}/status", {"status": "offer"}),
                    404) == "application.not_found"
    # A guest cannot apply; nor can someone without a résumé, twice, or staff at their booth.
    guest = as_user(world["guest"])
    assert error_of(post(guest, f"/api/jobs/{job['id']}/apply", {}), 403) == "application.guest"
    assert error_of(post(walt, f"/api/jobs/{job['id']}/apply", {}), 409) == "resume.missing"
    assert error_of(post(vera, f"/api/jobs/{job['id']}/apply", {}), 409) == "application.exists"
    assert error_of(post(as_user(world["staff_a2"]), f"/api/jobs/{job['id']}/apply", {}),
                    403) == "application.own_booth"
    assert error_of(post(Client(), f"/api/jobs/{job['id']}/apply", {}), 401) == "auth.required"
    assert error_of(post(vera, "/api/jobs/999999/apply", {}), 404) == "job.not_found"
    Job.objects.filter(pk=job["id"]).update(deadline=timezone.localdate() - timedelta(days=1))
    put(walt, "/api/resume", RESUME)
    assert error_of(post(walt, f"/api/jobs/{job['id']}/apply", {}), 409) == "job.closed"
    assert Application.objects.count() == 1
    assert ApplicationEvent.objects.count() == 1


def test_html_in_a_cover_note_is_kept_as_text(world, job):
    vera = as_user(world["vera"])
    put(vera, "/api/resume", RESUME)
    note = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    app = post(vera, f"/api/jobs/{job['id']}/apply", {"cover_note": note})
    assert app["Content-Type"].startswith("application/json")
    assert app.json()["cover_note"] == note  # stored verbatim; the UI renders it as text
    staff_view = as_user(world["staff_a"]).get(f"/api/applications/{app.json()['id']}")
    assert json.loads(staff_view.content)["cover_note"] == note
    too_long = post(as_user(world["walt"]), f"/api/jobs/{job['id']}/apply",
                    {"cover_note": "x" * 5001})
    assert error_of(too_long, 422) == "request.invalid"


# --- slots --------------------------------------------------------------------------------------

def slot_body(start_in_hours: float, minutes: int = 30) -> dict:
    start = timezone.now() + timedelta(hours=start_in_hours)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(minutes=minutes))
            .isoformat()}


def test_slots_offer_book_release(world, applied):
    staff, vera = as_user(world["staff_a"]), as_user(world["vera"])
    booth = world["booth_a"].pk
    slot = post(staff, f"/api/booths/{booth}/slots", slot_body(2)).json()
    assert slot["state"] == "open" and slot["host"]["name"] == "Alice Staff"
    assert error_of(post(staff, f"/api/booths/{booth}/slots", slot_body(2.2)),
                    409) == "slot.overlap"
    assert error_of(post(staff, f"/api/booths/{booth}/slots", slot_body(5, minutes=-5)),
                    400) == "slot.invalid"

    offered = post(staff, f"/api/slots/{slot['id']}/offer", {"application": applied["id"]})
    assert offered.json()["state"] == "offered"
    assert Application.objects.get(pk=applied["id"]).status == "interview"
    assert Notice.objects.filter(user=world["vera"], kind="slot.offered").count() == 1
    (mine,) = vera.get("/api/slots").json()["results"]
    assert mine["id"] == slot["id"]

    booked = post(vera, f"/api/slots/{slot['id']}/book").json()
    assert booked["state"] == "booked"
    assert error_of(post(vera, f"/api/slots/{slot['id']}/book"), 409) == "slot.taken"
    assert error_of(staff.delete(f"/api/slots/{slot['id']}"), 409) == "slot.taken"
    released = post(vera, f"/api/slots/{slot['id']}/release").json()
    assert released["state"] == "open" and released["application"] is None
    assert staff.delete(f"/api/slots/{slot['id']}").status_code == 204
    assert not Slot.objects.exists()


def test_slot_refusals(world, applied):
    staff_a, staff_b = as_user(world["staff_a"]), as_user(world["staff_b"])
    walt = as_user(world["walt"])
    booth_a = world["booth_a"].pk
    slot = post(staff_a, f"/api/booths/{booth_a}/slots", slot_body(2)).json()
    assert error_of(post(staff_b, f"/api/booths/{booth_a}/slots", slot_body(3)),
                    403) == "booth.not_staff"
    assert error_of(staff_b.get(f"/api/booths/{booth_a}/slots"), 403) == "booth.not_staff"
    for client in (staff_b, walt):
        assert error_of(post(client, f"/api/slots/{slot['id']}/offer",
                             {"application": applied["id"]}), 404) == "slot.not_found"
        assert error_of(post(client, f"/api/slots/{slot['id']}/book"), 404) == "slot.not_found"
    # Only the candidate it is offered to books it.
    post(staff_a, f"/api/slots/{slot['id']}/offer", {"application": applied["id"]})
    assert error_of(post(walt, f"/api/slots/{slot['id']}/book"), 404) == "slot.not_found"
    assert error_of(post(staff_a, f"/api/slots/{slot['id']}/book"), 404) == "slot.not_found"
    # Offered already: a second offer loses.
    second = post(staff_a, f"/api/booths/{booth_a}/slots", slot_body(4)).json()
    assert error_of(post(as_user(world["staff_a2"]), f"/api/slots/{slot['id']}/offer",
                         {"application": applied["id"]}), 409) == "slot.taken"
    assert error_of(post(staff_a, f"/api/slots/{second['id']}/offer", {"application": 999999}),
                    404) == "application.not_found"
    naive = {"starts_at": "2027-01-01T10:00:00", "ends_at": "2027-01-01T10:30:00"}
    assert error_of(post(staff_a, f"/api/booths/{booth_a}/slots", naive), 400) == "slot.invalid"


def test_a_candidate_cannot_book_two_overlapping_interviews(world, job, applied):
    staff_a, staff_a2 = as_user(world["staff_a"]), as_user(world["staff_a2"])
    vera = as_user(world["vera"])
    other_job = post(staff_a, f"/api/booths/{world['booth_a'].pk}/jobs",
                     {**JOB, "title": "Second"}).json()
    second_app = post(vera, f"/api/jobs/{other_job['id']}/apply", {}).json()
    one = post(staff_a, f"/api/booths/{world['booth_a'].pk}/slots", slot_body(2)).json()
    two = post(staff_a2, f"/api/booths/{world['booth_a'].pk}/slots", slot_body(2.1)).json()
    post(staff_a, f"/api/slots/{one['id']}/offer", {"application": applied["id"]})
    post(staff_a2, f"/api/slots/{two['id']}/offer", {"application": second_app["id"]})
    assert post(vera, f"/api/slots/{one['id']}/book").status_code == 200
    assert error_of(post(vera, f"/api/slots/{two['id']}/book"), 409) == "slot.overlap"
    assert Slot.objects.get(pk=two["id"]).state == "offered"


def test_the_clock_offset_only_counts_with_the_test_clock_on(settings):
    from recruitment import clock
    from recruitment.models import ClockOffset

    ClockOffset.objects.create(seconds=7200)
    settings.RECRUITMENT = {**settings.RECRUITMENT, "TEST_CLOCK": False}
    assert abs((clock.now() - timezone.now()).total_seconds()) < 60
    settings.RECRUITMENT = {**settings.RECRUITMENT, "TEST_CLOCK": True}
    assert 7100 < (clock.now() - timezone.now()).total_seconds() < 7300


def test_every_logged_in_endpoint_refuses_anonymous_callers(world, job):
    """Each operation that needs a session answers 401 auth.required, in the one error shape."""
    from hallserver.api import api

    calls = 0
    for path, ops in api.get_openapi_schema()["paths"].items():
        for method, op in ops.items():
            if not op.get("security") or not set(op.get("tags", [])) & {"recruitment",
                                                                         "accounts"}:
                continue
            url = path.format(user_id=world["vera"].pk, job_id=job["id"],
                              booth_id=world["booth_a"].pk, app_id=1, slot_id=1)
            response = getattr(Client(), method)(url, {} if method == "get" else "{}",
                                                 content_type="application/json")
            assert error_of(response, 401) == "auth.required", (method, path)
            calls += 1
    assert calls > 25


def test_more_refusals(world, applied, _media):
    vera, walt = as_user(world["vera"]), as_user(world["walt"])
    staff_a, staff_b = as_user(world["staff_a"]), as_user(world["staff_b"])
    assert error_of(walt.delete("/api/resume/pdf"), 404) == "resume.not_found"
    put(walt, "/api/resume", RESUME)
    assert error_of(walt.delete("/api/resume/pdf"), 404) == "resume.no_pdf"
    assert error_of(post(staff_b, f"/api/jobs/{applied['job']['id']}/reopen"),
                    403) == "booth.not_staff"
    slot = post(staff_a, f"/api/booths/{world['booth_a'].pk}/slots", slot_body(2)).json()
    post(staff_a, f"/api/slots/{slot['id']}/offer", {"application": applied["id"]})
    for client in (walt, staff_b):
        assert error_of(post(client, f"/api/slots/{slot['id']}/release"), 404) == "slot.not_found"
        assert error_of(client.delete(f"/api/slots/{slot['id']}"), 404) == "slot.not_found"
    # The candidate may release the offer, not delete the slot.
    assert error_of(vera.delete(f"/api/slots/{slot['id']}"), 403) == "booth.not_staff"
    assert Slot.objects.get(pk=slot["id"]).state == "offered"


@pytest.mark.parametrize("q", ["chem", "CHEM", "Catalysis", "两年", "Zwei Jahre, 两", "x",
                               'quo"te', "Acme", "nothing-like-it"])
def test_the_text_index_finds_what_a_substring_scan_finds(world, job, q):
    from django.db.models import Q

    from recruitment.services.jobs import directory, text_match

    staff = as_user(world["staff_a"])
    post(staff, f"/api/booths/{world['booth_a'].pk}/jobs", {**JOB, "title": "Lab manager",
                                                           "description": 'a "quo"te"'})
    second = post(staff, f"/api/booths/{world['booth_a'].pk}/jobs",
                  {**JOB, "title": "Old title"}).json()
    put(staff, f"/api/jobs/{second['id']}", {**JOB, "title": "Chemistry intern",
                                             "description": "neu"})  # the update trigger
    scan = set(Job.objects.filter(Q(title__icontains=q) | Q(description__icontains=q))
               .values_list("pk", flat=True))
    assert set(Job.objects.filter(text_match(q)).values_list("pk", flat=True)) == scan
    listed = {j["id"] for j in directory(q=q)["results"]}
    by_booth = q.lower() in "acme labs"
    assert listed == (set(Job.objects.values_list("pk", flat=True)) if by_booth else scan)
