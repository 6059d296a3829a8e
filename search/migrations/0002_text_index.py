"""The text index over search entries, per database: on SQLite an FTS5 table with the trigram
tokenizer (substring matches in any script, Chinese included) kept in step with
``search_entry`` by triggers; on PostgreSQL a GIN trigram index (pg_trgm) over the lowered
title and body, which serves ``LIKE '%…%'``, and one over the lowered title for the typo step's word similarity
(checking it against whole bodies, résumé texts included, took seconds)."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE search_entry_fts USING fts5(title, body, content='search_entry', "
    "content_rowid='id', tokenize='trigram case_sensitive 0')",
    "CREATE TRIGGER search_entry_fts_ai AFTER INSERT ON search_entry BEGIN "
    "INSERT INTO search_entry_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_entry_fts_ad AFTER DELETE ON search_entry BEGIN "
    "INSERT INTO search_entry_fts(search_entry_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_entry_fts_au AFTER UPDATE OF title, body ON search_entry BEGIN "
    "INSERT INTO search_entry_fts(search_entry_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_entry_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_entry_fts_ai",
    "DROP TRIGGER IF EXISTS search_entry_fts_ad",
    "DROP TRIGGER IF EXISTS search_entry_fts_au",
    "DROP TABLE IF EXISTS search_entry_fts",
]
POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX search_entry_text_trgm ON search_entry "
    "USING gin ((lower(title || ' ' || body)) gin_trgm_ops)",
    # Typos: word similarity is checked on the title alone (short, so the recheck is cheap).
    "CREATE INDEX search_entry_title_trgm ON search_entry "
    "USING gin ((lower(title)) gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS search_entry_text_trgm",
                 "DROP INDEX IF EXISTS search_entry_title_trgm"]


def _run(sqlite, postgres):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for statement in {"sqlite": sqlite, "postgresql": postgres}.get(vendor, []):
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_entry")]
    operations = [migrations.RunPython(_run(SQLITE, POSTGRES), _run(SQLITE_DROP, POSTGRES_DROP))]
