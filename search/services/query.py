"""One search over booths, jobs, projects and (for booth staff) résumés.

Text: every entry keeps a folded copy of its title and body (``Entry.text``: lowered, without
diacritics, capped at :data:`search.text.TEXT_CHARS`; see ``search/text.py``), and the query
is folded the same way, so ``muller`` finds "Müller" and ``МАШИНА`` "машина".

Matching: every word of the query must occur in an entry's folded text as a substring (so
Chinese without spaces, Russian and parts of German compounds match). On SQLite words of three
characters or more go through the FTS5 trigram table over ``text`` (one ``MATCH`` for all of
them), shorter ones are an ``instr`` check on the rows it returns; on PostgreSQL each word is a
``LIKE '%…%'`` on the stored ``text``, served by its GIN trigram index (over listed entries
only, which every search asks for).

Typos: when no entry matches every word and some word has four characters or more, each such
word is widened to the vocabulary words (:class:`search.models.Word`, the folded words of all
entries) one edit away from it: a letter left out, added or changed, or two neighbours
swapped. The candidates are generated in Python (:func:`search.text.edits`) and looked up in
one ``IN`` on the vocabulary's unique index, the same on both databases; up to
:data:`TYPO_WORDS` of them, most trigrams in common first, stand in for the word, which
itself stays one of the alternatives. The search then runs again with "any of these" for each
widened word, and the snippets mark whichever alternative they hold.

One statement per search does the counting and ranking: the filtered, matched rows are
gathered once (a materialised ``WITH``; on SQLite from the narrow covering index
``search_entry_match``, not the wide table rows), and the same statement returns their counts
grouped by the five facet columns (summed in Python into ``count`` and the facets, so they
always add up) and the requested page of ids, ranked: the whole query at the start of the
(folded) title first, then anywhere in the title, then the rest, ties newest record first.
Two more, by primary key, read the page's rows and bodies (:class:`search.models.Body`).
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter

from django.db import connection

from recruitment.services import staff_booths

from ..models import Body, Entry
from ..text import edits, fold, folded_map, similarity

#: At most this many vocabulary words stand in for one misspelt word.
TYPO_WORDS = 8
#: Words of this length or more may be misspelt (shorter ones must match as typed).
TYPO_MIN = 4
SNIPPET_CHARS = 160
FACETS = ("kind", "country", "hall", "job_type", "stage")


def _words(q: str) -> list[str]:
    words: list[str] = []
    for word in fold(q).split():
        if word not in words:
            words.append(word)
    return words[:8]


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _regex_literal(word: str) -> str:
    """``word`` as a PostgreSQL regular expression matching itself (a backslash before any
    character but a letter or digit makes it literal)."""
    return "".join(c if c.isalnum() else "\\" + c for c in word)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _matching(groups: list[list[str]]) -> tuple[list[str], list]:
    """SQL conditions on ``e`` (search_entry): for each group, one of its words occurs."""
    where: list[str] = []
    params: list = []
    if _postgres():
        for group in groups:
            if len(group) == 1:
                where.append("e.text LIKE %s")
                params.append(_like(group[0]))
            else:
                # One regular expression rather than ORed LIKEs: pg_trgm's GIN index serves
                # an alternation, while for the OR the planner chose a sequential scan.
                where.append("e.text ~ %s")
                params.append("(" + "|".join(_regex_literal(w) for w in group) + ")")
        return where, params
    indexed = [g for g in groups if all(len(w) >= 3 for w in g)]
    if indexed:
        where.append("e.id IN (SELECT rowid FROM search_entry_fts "
                     "WHERE search_entry_fts MATCH %s)")
        params.append(" AND ".join("(" + " OR ".join(_fts_phrase(w) for w in g) + ")"
                                   for g in indexed))
    for group in groups:
        if group not in indexed:
            where.append("(" + " OR ".join(["instr(e.text, %s) > 0"] * len(group)) + ")")
            params += group
    return where, params


def _filtering(viewer, kind: str, country: str, tag: str, hall: int | None, job_type: str,
               stage: str) -> tuple[list[str], list]:
    where, params = ["e.listed"], []
    if not staff_booths(viewer):
        where.append("e.kind <> %s")
        params.append(Entry.Kind.RESUME)
    for column, value in (("kind", kind), ("country", country.upper()), ("hall", hall),
                          ("job_type", job_type), ("stage", stage)):
        if value not in (None, ""):
            where.append(f"e.{column} = %s")
            params.append(value)
    if tag:
        if _postgres():
            where.append("e.tags @> %s::jsonb")
            params.append(json.dumps([tag]))
        else:
            where.append("e.tags LIKE %s ESCAPE '\\'")
            params.append(_like(json.dumps(tag)))
    return where, params


def _run(where: list[str], params: list, phrase: str, offset: int,
         limit: int) -> tuple[int, dict, list[int]]:
    """``count``, facets and the page's entry ids of the entries meeting ``where``."""
    score, score_params = "0", []
    if phrase:
        find = "strpos" if _postgres() else "instr"
        score = (f"CASE WHEN {find}(e.head, %s) = 1 THEN 2 WHEN {find}(e.head, %s) > 0 "
                 "THEN 1 ELSE 0 END")
        score_params = [phrase, phrase]
    # SQLite: the matched rows' columns from the narrow covering index (migration 0003), not
    # from the table's rows with their long texts.
    table = "search_entry e" if _postgres() else "search_entry e INDEXED BY search_entry_match"
    sql = (
        "WITH m AS MATERIALIZED (SELECT e.id, e.kind, e.country, e.hall, e.job_type, e.stage, "
        f"{score} AS score FROM {table} WHERE {' AND '.join(where)}) "
        "SELECT 0, 0, kind, country, hall, job_type, stage, count(*) FROM m "
        "GROUP BY kind, country, hall, job_type, stage "
        "UNION ALL SELECT * FROM (SELECT 1, id, kind, country, hall, job_type, stage, score "
        "FROM m ORDER BY score DESC, id DESC LIMIT %s OFFSET %s) AS page")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*score_params, *params, limit, offset])
        rows = cursor.fetchall()
    facets: dict[str, Counter] = {name: Counter() for name in FACETS}
    count = 0
    page = []
    for part, ref, *values, number in rows:
        if part:
            page.append((number, ref))
            continue
        count += number
        for name, value in zip(FACETS, values, strict=True):
            if value not in (None, ""):
                facets[name][str(value)] += number
    return count, {n: dict(c) for n, c in facets.items()}, [r for _, r in sorted(page,
                                                                              reverse=True)]


def _near(words: list[str]) -> dict[str, list[str]]:
    """For each word, the vocabulary words one edit away from it (at most TYPO_WORDS, most
    trigrams in common first): one lookup on the vocabulary's unique index for all words."""
    variants = {w: edits(w) for w in words}
    wanted = sorted(set().union(*variants.values()))
    known: set[str] = set()
    for at in range(0, len(wanted), 5000):
        chunk = wanted[at:at + 5000]
        with connection.cursor() as cursor:
            cursor.execute("SELECT word FROM search_word WHERE word IN (" +
                           ", ".join(["%s"] * len(chunk)) + ")", chunk)
            known |= {row[0] for row in cursor.fetchall()}
    return {w: sorted(v & known, key=lambda n: (-similarity(w, n), n))[:TYPO_WORDS]
            for w, v in variants.items()}


def snippet(text: str, words: list[str]) -> str:
    """``text`` around the first query word (folded ``words``, matched in the folded text, so
    without regard to case or diacritics), HTML-escaped, each match in ``<mark>``."""
    if not words:
        return html.escape(text[:SNIPPET_CHARS])
    folded = fold(text)
    hits = [h for h in (folded.find(w) for w in words) if h >= 0]
    first = min(hits) if hits else 0
    if first and len(folded) != len(text):  # some character folded to more or fewer
        first = folded_map(text)[1][first]
    start = max(0, first - SNIPPET_CHARS // 3)
    piece = text[start:start + SNIPPET_CHARS]
    folded_piece, where = folded_map(piece)
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    out, last = [], 0
    for match in pattern.finditer(folded_piece):
        begin, end = where[match.start()], where[match.end() - 1] + 1
        while end < len(piece) and not fold(piece[end]):  # a combining mark of the last letter
            end += 1
        if begin < last:
            continue
        out.append(html.escape(piece[last:begin]))
        out.append("<mark>" + html.escape(piece[begin:end]) + "</mark>")
        last = end
    out.append(html.escape(piece[last:]))
    return ("…" if start else "") + "".join(out) + ("…" if start + SNIPPET_CHARS < len(text)
                                                     else "")


def search(viewer, q: str = "", *, kind: str = "", country: str = "", tag: str = "",
           hall: int | None = None, job_type: str = "", stage: str = "", offset: int = 0,
           limit: int = 20) -> dict:
    """Ranked matches with facet counts and snippets. Closed jobs and résumés whose owner has
    not opted in are never listed; résumés are listed to booth staff only."""
    where, params = _filtering(viewer, kind, country, tag, hall, job_type, stage)
    words = _words(q.strip())
    phrase = " ".join(words)
    groups = [[w] for w in words]
    match_where, match_params = _matching(groups)
    count, facets, ids = _run(where + match_where, params + match_params, phrase, offset, limit)
    typo = False
    if not count and any(len(w) >= TYPO_MIN for w in words):
        typo = True
        near = _near([w for w in words if len(w) >= TYPO_MIN])
        groups = [[w, *near.get(w, [])] for w in words]
        match_where, match_params = _matching(groups)
        count, facets, ids = _run(where + match_where, params + match_params, phrase, offset,
                                  limit)
    marked = sorted({w for group in groups for w in group}, key=len, reverse=True)
    entries = Entry.objects.defer("text").in_bulk(ids)
    bodies = dict(Body.objects.filter(entry_id__in=ids).values_list("entry_id", "body"))
    results = []
    for ref in ids:
        entry = entries[ref]
        results.append({
            "kind": entry.kind, "id": entry.ref, "title": entry.title,
            "title_html": snippet(entry.title, marked),
            "snippet_html": snippet(bodies.get(ref, ""), marked), "country": entry.country,
            "tags": entry.tags, "hall": entry.hall, "booth": entry.booth,
            "job_type": entry.job_type, "stage": entry.stage})
    return {"q": q.strip(), "count": count, "typo": typo, "facets": facets,
            "results": results, "offset": offset, "limit": limit}
