"""Building the search entries from the records they stand for."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from contextlib import contextmanager
from types import SimpleNamespace as Row

from django.db import connection, transaction

from accounts.models import Account
from booths.models import Booth
from docking.models import Project
from hallserver.bulk import insert
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
    """Every entry, its body and the vocabulary afresh from the records (after bulk loads,
    which skip the hooks).

    The entries are the hooks' own (the ``*_entry`` functions above), built from plain rows
    rather than model instances and written with :func:`hallserver.bulk.insert`: the
    conference's 130,000 entries take seconds, not minutes."""
    with _text_index_off():
        return _rebuild()


@contextmanager
def _text_index_off():
    """Rebuild without keeping the text index row by row: on SQLite the FTS5 table's triggers
    are dropped and the table rebuilt once at the end; on PostgreSQL the trigram indexes are
    dropped and built again over the new rows (both several times faster than per row).
    The statements are migration 0003's, so the index comes back exactly as migrated."""
    text = importlib.import_module("search.migrations.0003_folded_text")
    vendor = connection.vendor
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "sqlite":
            for sql in text.SQLITE_DROP[:4]:  # the narrow match index and the triggers
                cursor.execute(sql)
            cursor.execute("PRAGMA cache_size")
            cache = cursor.fetchone()[0]
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB for the FTS build
        elif vendor == "postgresql":
            for sql in text.POSTGRES_DROP:
                cursor.execute(sql)
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        yield
        if vendor == "sqlite":
            cursor.execute("INSERT INTO search_entry_fts(search_entry_fts) VALUES ('rebuild')")
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")
            for sql in text.SQLITE:  # the triggers and the match index again
                if sql.startswith(("CREATE TRIGGER", "CREATE INDEX")):
                    cursor.execute(sql)
        elif vendor == "postgresql":
            # The bodies' deferred foreign-key checks run now: an index cannot be built on a
            # table with checks still pending.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for sql in text.POSTGRES:
                cursor.execute(sql)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's foreign keys' default


def _rebuild() -> int:
    Word.objects.all().delete()
    Entry.objects.all().delete()  # and their bodies (cascade)
    opted = set(Account.objects.filter(talent_search=True).values_list("user_id", flat=True))
    booths = {b["id"]: Row(pk=b["id"], **{k: v for k, v in b.items() if k != "id"})
              for b in Booth.objects.values("id", "name", "name_zh", "description",
                                            "industry_tags", "country", "hall_id", "kind")}
    entries: list[Entry] = [booth_entry(b) for b in booths.values()]
    entries += [job_entry(Row(pk=j.pop("id"), booth=booths[j["booth_id"]], **j))
                for j in Job.objects.values("id", "booth_id", "title", "description", "place",
                                            "fields", "country", "job_type", "is_open")]
    entries += [project_entry(Row(pk=p.pop("id"), booth=booths.get(p["booth_id"]), **p))
                for p in Project.objects.values("id", "booth_id", "title", "summary",
                                                "description", "fields", "country", "stage")]
    entries += [resume_entry(Row(**r), r["user_id"] in opted)
                for r in Resume.objects.values("user_id", "data", "pdf_text").iterator(5000)]
    ids = insert(Entry, entries)
    if ids:  # the bodies share their entries' ids, which insert() gives in one run
        insert(Body, [{"body": e.body} for e in entries], first_id=ids[0])
    vocabulary: set[str] = set()
    for entry in entries:
        vocabulary |= words_of(entry.text)
    insert(Word, [{"word": w} for w in sorted(vocabulary)])
    return len(entries)
