"""A trigram full-text index of job titles and descriptions on SQLite (FTS5), kept in step by
triggers; the jobs directory's `q` uses it for three characters or more. Other databases keep
the plain substring match."""

from django.db import migrations

CREATE = [
    "CREATE VIRTUAL TABLE recruitment_job_fts USING fts5(title, description, "
    "content='recruitment_job', content_rowid='id', tokenize='trigram case_sensitive 0')",
    "CREATE TRIGGER recruitment_job_fts_ai AFTER INSERT ON recruitment_job BEGIN "
    "INSERT INTO recruitment_job_fts(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER recruitment_job_fts_ad AFTER DELETE ON recruitment_job BEGIN "
    "INSERT INTO recruitment_job_fts(recruitment_job_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); END",
    "CREATE TRIGGER recruitment_job_fts_au AFTER UPDATE OF title, description "
    "ON recruitment_job BEGIN "
    "INSERT INTO recruitment_job_fts(recruitment_job_fts, rowid, title, description) "
    "VALUES ('delete', old.id, old.title, old.description); "
    "INSERT INTO recruitment_job_fts(rowid, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "INSERT INTO recruitment_job_fts(recruitment_job_fts) VALUES ('rebuild')",
]
DROP = [
    "DROP TRIGGER IF EXISTS recruitment_job_fts_ai",
    "DROP TRIGGER IF EXISTS recruitment_job_fts_ad",
    "DROP TRIGGER IF EXISTS recruitment_job_fts_au",
    "DROP TABLE IF EXISTS recruitment_job_fts",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for statement in statements:
            schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):
    dependencies = [("recruitment", "0002_job_directory_index")]
    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
