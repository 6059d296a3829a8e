"""Search over a folded copy of each entry's text (lowered, without diacritics, capped: see
search/text.py), the same on both databases, and a vocabulary of words for the typo step.
The body as written moves to its own table (``search_body``): only the page's snippets read it,
and without it the rows every match reads are about half as wide.

SQLite: the FTS5 trigram table now indexes ``search_entry.text`` alone (kept in step by
triggers), and the narrow index ``search_entry_match`` holds per entry id what one search
reads of each matched row (listed, the facet columns, the folded title), so the rows the FTS
table returns are counted and ranked without reading their long texts. PostgreSQL: a GIN
trigram index on ``search_entry.text`` (``LIKE '%…%'`` rechecks the stored, capped text instead
of lowering title and body on every row); the two expression indexes of migration 0002 go."""

import importlib

import django.db.models.deletion
from django.db import migrations, models

SQLITE = [
    "DROP TRIGGER IF EXISTS search_entry_fts_ai",
    "DROP TRIGGER IF EXISTS search_entry_fts_ad",
    "DROP TRIGGER IF EXISTS search_entry_fts_au",
    "DROP TABLE IF EXISTS search_entry_fts",
    "CREATE VIRTUAL TABLE search_entry_fts USING fts5(text, content='search_entry', "
    "content_rowid='id', tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER search_entry_fts_ai AFTER INSERT ON search_entry BEGIN "
    "INSERT INTO search_entry_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER search_entry_fts_ad AFTER DELETE ON search_entry BEGIN "
    "INSERT INTO search_entry_fts(search_entry_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER search_entry_fts_au AFTER UPDATE OF text ON search_entry BEGIN "
    "INSERT INTO search_entry_fts(search_entry_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO search_entry_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO search_entry_fts(search_entry_fts) VALUES ('rebuild')",
    "CREATE INDEX search_entry_match ON search_entry "
    "(id, listed, kind, country, hall, job_type, stage, head)",
]
SQLITE_DROP = [
    "DROP INDEX IF EXISTS search_entry_match",
    "DROP TRIGGER IF EXISTS search_entry_fts_ai",
    "DROP TRIGGER IF EXISTS search_entry_fts_ad",
    "DROP TRIGGER IF EXISTS search_entry_fts_au",
    "DROP TABLE IF EXISTS search_entry_fts",
]
POSTGRES = [
    "DROP INDEX IF EXISTS search_entry_text_trgm",
    "DROP INDEX IF EXISTS search_entry_title_trgm",
    # Listed entries only: every search asks for them, and with the whole table the planner
    # ANDed in the (kind, listed) index for three quarters of the rows.
    "CREATE INDEX search_entry_text_trgm ON search_entry USING gin (text gin_trgm_ops) "
    "WHERE listed",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS search_entry_text_trgm"]


def _sql(sqlite, postgres, then_old=False):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in {"sqlite": sqlite, "postgresql": postgres}.get(vendor, []):
            schema_editor.execute(statement)
        if then_old:  # going back: migration 0002's index again
            old = importlib.import_module("search.migrations.0002_text_index")
            for statement in {"sqlite": [*old.SQLITE, "INSERT INTO search_entry_fts"
                                         "(search_entry_fts) VALUES ('rebuild')"],
                              "postgresql": old.POSTGRES}.get(vendor, []):
                schema_editor.execute(statement)
    return run


def _fill(apps, schema_editor):
    from search.text import entry_text, head_text, words_of

    entry = apps.get_model("search", "Entry")
    word = apps.get_model("search", "Word")
    seen: set[str] = set()
    last = 0
    with schema_editor.connection.cursor() as cursor:
        while True:  # in id order, a chunk at a time (no cursor left open over the table)
            chunk = list(entry.objects.filter(id__gt=last).order_by("id")
                         .values_list("id", "title", "body")[:2000])
            if not chunk:
                break
            last = chunk[-1][0]
            rows = []
            for pk, title, body in chunk:
                text = entry_text(title, body)
                seen |= words_of(text)
                rows.append((text, head_text(title), pk))
            cursor.executemany("UPDATE search_entry SET text = %s, head = %s WHERE id = %s",
                               rows)
    word.objects.bulk_create([word(word=w) for w in sorted(seen)], batch_size=5000)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_text_index")]
    operations = [
        migrations.AddField(model_name="entry", name="text",
                            field=models.TextField(blank=True, default="")),
        migrations.AddField(model_name="entry", name="head",
                            field=models.TextField(blank=True, default="")),
        migrations.CreateModel(name="Word", fields=[
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                       verbose_name="ID")),
            ("word", models.CharField(max_length=32, unique=True)),
        ]),
        migrations.CreateModel(name="Body", fields=[
            ("entry", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                           primary_key=True, related_name="+",
                                           serialize=False, to="search.entry")),
            ("body", models.TextField(blank=True)),
        ]),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.RunSQL("INSERT INTO search_body (entry_id, body) "
                          "SELECT id, body FROM search_entry",
                          "UPDATE search_entry SET body = (SELECT b.body FROM search_body b "
                          "WHERE b.entry_id = search_entry.id)"),
        migrations.RunPython(_sql(SQLITE, POSTGRES), _sql(SQLITE_DROP, POSTGRES_DROP, True)),
        migrations.RemoveField(model_name="entry", name="body"),
    ]
