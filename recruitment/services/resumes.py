"""Résumés: the structured part, the PDF (checked, stored, deleted), and who may read one.

Read rules (docs/permissions.md): the owner; staff of a booth the owner applied to, through
that application; staff of any booth when the owner opted in to talent search. Everyone else
is answered as if there were no résumé (404).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import secrets
from pathlib import Path
from typing import Annotated

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accounts.models import Account

from ..models import Application, JobType, Resume, Status
from . import RecruitError, staff_booths

log = logging.getLogger(__name__)

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
YearMonth = Annotated[str, StringConstraints(pattern=r"^(\d{4}(-\d{2})?)?$")]

PDF_MAGIC = b"%PDF-"
MAX_PAGES_READ = 50
MAX_TEXT_CHARS = 200_000


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Education(_Part):
    school: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=200)]
    degree: Text = ""
    field: Text = ""
    start: YearMonth = ""
    end: YearMonth = ""


class Experience(_Part):
    employer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                               max_length=200)]
    title: Text = ""
    start: YearMonth = ""
    end: YearMonth = ""
    description: LongText = ""


class Language(_Part):
    language: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                               max_length=60)]
    level: Text = ""


class ResumeData(_Part):
    """The structured résumé, as the browser edits it."""

    summary: LongText = ""
    education: Annotated[list[Education], Field(max_length=30)] = []
    experience: Annotated[list[Experience], Field(max_length=50)] = []
    skills: Annotated[list[Tag], Field(max_length=100)] = []
    languages: Annotated[list[Language], Field(max_length=30)] = []
    job_types: Annotated[list[JobType], Field(max_length=10)] = []
    places: Annotated[list[Tag], Field(max_length=30)] = []


def media_dir() -> Path:
    path = Path(settings.LIVE_VIDEO["MEDIA_DIR"]) / "resumes"
    path.mkdir(parents=True, exist_ok=True)
    return path


def resume_data(resume: Resume, *, owner: bool = False) -> dict:
    data = {"user": resume.user_id, "data": resume.data,
            "pdf": {"name": resume.pdf_name, "size": resume.pdf_size} if resume.pdf_file else None,
            "updated_at": resume.updated_at.isoformat()}
    if owner and resume.pdf_file:
        data["pdf"]["text_chars"] = len(resume.pdf_text)
    return data


def mine(user) -> Resume:
    resume = Resume.objects.filter(user=user).first()
    if resume is None:
        raise RecruitError("resume.not_found", "You have no résumé yet.", 404)
    return resume


def save(user, data: ResumeData) -> Resume:
    resume, _ = Resume.objects.get_or_create(user=user)
    resume.data = data.model_dump(mode="json")
    resume.save()
    return resume


def clean_file_name(name: str) -> str:
    """A harmless display name for an uploaded file: no path, no markup, ends in .pdf."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^\w .()-]+", "_", base).strip(" ._") or "resume"
    base = base[:100]
    if not base.lower().endswith(".pdf"):
        base += ".pdf"
    return base


def check_pdf(content: bytes) -> str:
    """The text of a PDF, or :class:`RecruitError` if it is too big or not really a PDF."""
    limit = settings.RECRUITMENT["RESUME_MAX_BYTES"]
    if len(content) > limit:
        raise RecruitError("resume.too_large",
                           f"The PDF may have at most {limit // (1024 * 1024)} MB.", 413)
    if not content.startswith(PDF_MAGIC):
        raise RecruitError("resume.not_pdf", "That file is not a PDF.", 400)
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            raise RecruitError("resume.not_pdf", "Upload a PDF without a password.", 400)
        parts = []
        for page in reader.pages[:MAX_PAGES_READ]:
            parts.append(page.extract_text() or "")
            if sum(map(len, parts)) > MAX_TEXT_CHARS:
                break
    except RecruitError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError):
        raise RecruitError("resume.not_pdf", "That file is not a readable PDF.", 400) from None
    return " ".join(" ".join(parts).split())[:MAX_TEXT_CHARS]


def attach_pdf(user, file_name: str, content: bytes) -> Resume:
    text = check_pdf(content)
    stored = f"{secrets.token_hex(16)}.pdf"
    path = media_dir() / stored
    path.write_bytes(content)
    try:
        with transaction.atomic():
            resume, _ = Resume.objects.select_for_update().get_or_create(user=user)
            old = resume.pdf_file
            resume.pdf_file, resume.pdf_name = stored, clean_file_name(file_name)
            resume.pdf_size, resume.pdf_text = len(content), text
            resume.save()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if old:
        _remove_file(old)
    return resume


def _remove_file(stored: str) -> None:
    if re.fullmatch(r"[0-9a-f]{32}\.pdf", stored):
        with contextlib.suppress(FileNotFoundError):
            (media_dir() / stored).unlink()


def remove_pdf(user) -> None:
    resume = mine(user)
    if not resume.pdf_file:
        raise RecruitError("resume.no_pdf", "Your résumé has no PDF.", 404)
    stored = resume.pdf_file
    Resume.objects.filter(pk=resume.pk).update(pdf_file="", pdf_name="", pdf_size=0, pdf_text="")
    _remove_file(stored)


def delete(user) -> None:
    """Delete the résumé, file included."""
    resume = mine(user)
    stored = resume.pdf_file
    resume.delete()
    if stored:
        _remove_file(stored)


def pdf_path(resume: Resume) -> Path:
    if not resume.pdf_file:
        raise RecruitError("resume.not_found", "This résumé has no PDF.", 404)
    path = media_dir() / resume.pdf_file
    if not path.is_file():
        raise RecruitError("resume.not_found", "This résumé has no PDF.", 404)
    return path


def for_application(viewer, application_id: int) -> Resume:
    """The résumé of an application's candidate, for staff of the application's booth."""
    app = (Application.objects.filter(pk=application_id)
           .exclude(status=Status.WITHDRAWN).first())
    if app is not None and (app.candidate_id == viewer.pk
                            or app.booth_id in staff_booths(viewer)):
        resume = Resume.objects.filter(user_id=app.candidate_id).first()
        if resume is not None:
            return resume
    raise RecruitError("resume.not_found", f"No résumé for application {application_id}.", 404)


def for_talent_search(viewer, user_id: int) -> Resume:
    """Someone's résumé, for its owner, or for staff of any booth if the owner opted in."""
    resume = Resume.objects.filter(user_id=user_id).first()
    if resume is not None and (resume.user_id == viewer.pk or (
            staff_booths(viewer)
            and Account.objects.filter(user_id=user_id, talent_search=True).exists())):
        return resume
    raise RecruitError("resume.not_found", f"No résumé {user_id}.", 404)


def talent_search(viewer, q: str, limit: int = 50) -> list[dict]:
    """Résumés of people who opted in to talent search matching ``q`` (staff only)."""
    if not staff_booths(viewer):
        raise RecruitError("booth.not_staff", "Talent search is for booth staff.", 403)
    qs = Resume.objects.filter(user__account__talent_search=True).select_related(
        "user__profile")
    q = q.strip()
    if q:
        qs = qs.filter(Q(pdf_text__icontains=q) | Q(data__icontains=q))
    rows = []
    for resume in qs.order_by("-updated_at")[:limit]:
        profile = getattr(resume.user, "profile", None)
        rows.append({"user": resume.user_id,
                     "name": profile.display_name if profile else resume.user.get_username(),
                     "skills": resume.data.get("skills", []), "has_pdf": bool(resume.pdf_file)})
    return rows
