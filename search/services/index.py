"""Building the search entries from the records they stand for."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import Account
from booths.models import Booth
from docking.models import Project
from recruitment.models import Job, Resume

from ..models import Body, Entry, Word
from ..text import entry_text, head_text, words_of


def _text(value) -> Iterable[str]:
    """Every string inside a JSON value (résumé data)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _text(item)
    elif isinstance(value, list):
        for item in value:
            yield from _text(item)


def _entry(body: str, **fields) -> Entry:
    """An unsaved entry with its ``body`` (stored apart, in :class:`Body`) and folded text."""
    entry = Entry(**fields)
    entry.body = body
    entry.text = entry_text(entry.title, body)
    entry.head = head_text(entry.title)
    return entry


def booth_entry(booth: Booth) -> Entry:
    return _entry(kind=Entry.Kind.BOOTH, ref=booth.pk,
                  title=" ".join(filter(None, [booth.name, booth.name_zh])),
                  body=" ".join([booth.description, *map(str, booth.industry_tags)]),
                  country=booth.country, tags=list(booth.industry_tags), hall=booth.hall_id,
                  booth=booth.pk, stage=booth.kind)


def job_entry(job: Job) -> Entry:
    booth = job.booth
    return _entry(kind=Entry.Kind.JOB, ref=job.pk, title=job.title,
                  body=" ".join([job.description, booth.name, booth.name_zh, job.place,
                                 *map(str, job.fields)]),
                  country=job.country or booth.country, tags=list(job.fields),
                  hall=booth.hall_id, booth=booth.pk, job_type=job.job_type,
                  listed=job.is_open)


def project_entry(project: Project) -> Entry:
    booth = project.booth
    return _entry(kind=Entry.Kind.PROJECT, ref=project.pk, title=project.title,
                  body=" ".join([project.summary, project.description,
                                 booth.name if booth else "", *map(str, project.fields)]),
                  country=project.country, tags=list(project.fields),
                  hall=booth.hall_id if booth else None, booth=booth.pk if booth else None,
                  stage=project.stage)


def resume_entry(resume: Resume, opted_in: bool) -> Entry:
    data = resume.data or {}
    name = str(data.get("name") or data.get("headline") or "")
    skills = [str(s) for s in data.get("skills", []) if isinstance(s, str)]
    return _entry(kind=Entry.Kind.RESUME, ref=resume.user_id,
                  title=name or f"résumé {resume.user_id}",
                  body=" ".join([*_text(data), resume.pdf_text[:20_000]]),
                  country=str(data.get("country", ""))[:2].upper(), tags=skills,
                  listed=opted_in)


def put(entry: Entry) -> None:
    """Write an entry in place of the previous one for the same record, and its new words into
    the vocabulary."""
    values = {f.attname: getattr(entry, f.attname) for f in Entry._meta.concrete_fields
              if f.attname not in ("id", "kind", "ref")}
    saved, _ = Entry.objects.update_or_create(kind=entry.kind, ref=entry.ref, defaults=values)
    Body.objects.update_or_create(entry=saved, defaults={"body": entry.body})
    Word.objects.bulk_create([Word(word=w) for w in sorted(words_of(entry.text))],
                             ignore_conflicts=True)


def drop(kind: str, ref: int) -> None:
    Entry.objects.filter(kind=kind, ref=ref).delete()


def index_resume(user_id: int) -> None:
    resume = Resume.objects.filter(user_id=user_id).first()
    if resume is None:
        drop(Entry.Kind.RESUME, user_id)
        return
    opted = Account.objects.filter(user_id=user_id, talent_search=True).exists()
    put(resume_entry(resume, opted))


def rebuild() -> int:
    """Every entry and the vocabulary afresh from the records (after bulk loads, which skip
    the hooks)."""
    Body.objects.all().delete()
    Entry.objects.all().delete()
    Word.objects.all().delete()
    opted = set(Account.objects.filter(talent_search=True).values_list("user_id", flat=True))
    entries: list[Entry] = []
    entries += [booth_entry(b) for b in Booth.objects.all()]
    entries += [job_entry(j) for j in Job.objects.select_related("booth")]
    entries += [project_entry(p) for p in Project.objects.select_related("booth")]
    entries += [resume_entry(r, r.user_id in opted) for r in Resume.objects.all()]
    vocabulary: set[str] = set()
    for entry in entries:
        vocabulary |= words_of(entry.text)
    Entry.objects.bulk_create(entries, batch_size=2000)
    Body.objects.bulk_create([Body(entry_id=e.pk, body=e.body) for e in entries],
                             batch_size=2000)
    Word.objects.bulk_create([Word(word=w) for w in sorted(vocabulary)], batch_size=5000)
    return len(entries)
