"""One search over booths, jobs, projects and (for booth staff) résumés.

Matching: every word of the query must occur in an entry's title or body, as a substring in
any case (so Chinese without spaces, Russian and parts of German compounds match). On SQLite
words of three characters or more go through the FTS5 trigram table, shorter ones are a
substring scan; on PostgreSQL ``LIKE`` over the lowered text, served by the GIN trigram index.
When no entry matches every word, the search tries again allowing typos: on PostgreSQL with
pg_trgm's word similarity (``<%``) against the title, on SQLite by taking the entries
sharing the most trigrams with each word (FTS5 ``OR`` of the trigrams, best bm25 first) and
keeping those holding at least :data:`TYPO_SHARE` of them.

Ranking: the whole query in the title first, then a title starting with it, then the rest;
ties newest record first. Facets count the same filtered set the results are paged from, so
they always add up to ``count``.
"""

from __future__ import annotations

import html
import json
import re

from django.db import connection
from django.db.models import BooleanField, Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from recruitment.services import staff_booths

from ..models import Entry

#: Share of a misspelt word's trigrams an entry must hold to match it (SQLite); on PostgreSQL
#: pg_trgm's word similarity threshold for the same step.
TYPO_SHARE = 0.5
#: At most this many candidates per misspelt word are weighed (SQLite).
TYPO_CANDIDATES = 300
SNIPPET_CHARS = 160
FACETS = ("kind", "country", "hall", "job_type", "stage")


def _words(q: str) -> list[str]:
    return [w for w in q.split() if w][:8]


def _trigrams(word: str) -> set[str]:
    """The word's trigrams, with a space before and after it as word edges."""
    word = f" {word.lower()} "
    return {word[i:i + 3] for i in range(len(word) - 2)}


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _exact(qs: QuerySet, words: list[str]) -> QuerySet:
    if connection.vendor == "postgresql":
        for number, word in enumerate(words):
            pattern = "%" + (word.lower().replace("\\", "\\\\").replace("%", "\\%")
                             .replace("_", "\\_")) + "%"
            qs = qs.alias(**{f"hit{number}": RawSQL(
                "lower(search_entry.title || ' ' || search_entry.body) LIKE %s",
                [pattern], output_field=BooleanField())}).filter(**{f"hit{number}": True})
        return qs
    long = [w for w in words if len(w) >= 3]
    if long:
        qs = qs.filter(pk__in=RawSQL(
            "SELECT rowid FROM search_entry_fts WHERE search_entry_fts MATCH %s",
            [" AND ".join(_fts_phrase(w) for w in long)]))
    for word in words:
        if len(word) < 3:
            qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return qs


def _typo(qs: QuerySet, words: list[str]) -> QuerySet:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
                           [str(TYPO_SHARE)])
        for number, word in enumerate(words):
            qs = qs.alias(**{f"near{number}": RawSQL(
                "%s <%% lower(search_entry.title)",
                [word.lower()], output_field=BooleanField())}).filter(**{f"near{number}": True})
        return qs
    ids: set[int] | None = None
    with connection.cursor() as cursor:
        for word in words:
            grams = _trigrams(word)
            if not grams:
                continue
            cursor.execute(
                "SELECT rowid, ' ' || lower(title || ' ' || body) || ' ' FROM search_entry_fts "
                "WHERE search_entry_fts MATCH %s ORDER BY bm25(search_entry_fts) LIMIT %s",
                [" OR ".join(_fts_phrase(g) for g in sorted(grams)), TYPO_CANDIDATES])
            near = {rowid for rowid, text in cursor.fetchall()
                    if sum(g in text for g in grams) >= TYPO_SHARE * len(grams)}
            ids = near if ids is None else ids & near
    return qs.filter(pk__in=ids or [])


def snippet(text: str, words: list[str]) -> str:
    """``text`` around the first query word, HTML-escaped, each word in ``<mark>``."""
    lowered = text.lower()
    hits = [lowered.find(w.lower()) for w in words]
    hits = [h for h in hits if h >= 0]
    start = max(0, min(hits) - SNIPPET_CHARS // 3) if hits else 0
    piece = text[start:start + SNIPPET_CHARS]
    if not words:
        return html.escape(piece)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)),
                         re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(piece):
        out.append(html.escape(piece[last:match.start()]))
        out.append("<mark>" + html.escape(match.group()) + "</mark>")
        last = match.end()
    out.append(html.escape(piece[last:]))
    return ("…" if start else "") + "".join(out) + ("…" if start + SNIPPET_CHARS < len(text)
                                                     else "")


def search(viewer, q: str = "", *, kind: str = "", country: str = "", tag: str = "",
           hall: int | None = None, job_type: str = "", stage: str = "", offset: int = 0,
           limit: int = 20) -> dict:
    """Ranked matches with facet counts and snippets. Closed jobs and résumés whose owner has
    not opted in are never listed; résumés are listed to booth staff only."""
    qs = Entry.objects.filter(listed=True)
    if not staff_booths(viewer):
        qs = qs.exclude(kind=Entry.Kind.RESUME)
    if kind:
        qs = qs.filter(kind=kind)
    if country:
        qs = qs.filter(country=country.upper())
    if tag:
        qs = (qs.filter(tags__contains=[tag]) if connection.vendor == "postgresql"
              else qs.filter(tags__icontains=json.dumps(tag)))
    if hall is not None:
        qs = qs.filter(hall=hall)
    if job_type:
        qs = qs.filter(job_type=job_type)
    if stage:
        qs = qs.filter(stage=stage)
    words = _words(q.strip())
    typo = False
    matched = qs
    if words:
        matched = _exact(qs, words)
        if not matched.exists() and any(len(w) >= 4 for w in words):
            matched, typo = _typo(qs, words), True
    count = matched.count()
    facets = {name: {str(row[name]): row["n"] for row in
                     matched.order_by().values(name).annotate(n=Count("id"))
                     if row[name] not in (None, "")}
              for name in FACETS}
    phrase = q.strip()
    ranked = matched.annotate(score=Case(
        When(title__istartswith=phrase, then=Value(2)) if phrase else When(pk=None,
                                                                         then=Value(0)),
        When(title__icontains=phrase, then=Value(1)) if phrase else When(pk=None,
                                                                       then=Value(0)),
        default=Value(0), output_field=IntegerField())).order_by("-score", "-id")
    results = []
    for entry in ranked[offset:offset + limit]:
        results.append({
            "kind": entry.kind, "id": entry.ref, "title": entry.title,
            "title_html": snippet(entry.title, words),
            "snippet_html": snippet(entry.body, words), "country": entry.country,
            "tags": entry.tags, "hall": entry.hall, "booth": entry.booth,
            "job_type": entry.job_type, "stage": entry.stage})
    return {"q": phrase, "count": count, "typo": typo, "facets": facets,
            "results": results, "offset": offset, "limit": limit}
