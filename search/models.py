"""One row per searchable record (booth, job, project, résumé): its text and the values the
search filters and counts on, kept in step with the record by save/delete hooks
(``search/signals.py``); the body as written is in :class:`Body`. ``text`` is title and body
folded (lowered, without diacritics, capped:
``search/text.py``); the index over it is per database: an FTS5 trigram table on SQLite, a
pg_trgm GIN index on PostgreSQL (migration 0003). :class:`Word` is the vocabulary the typo
step looks in."""

from django.db import models


class Entry(models.Model):
    class Kind(models.TextChoices):
        BOOTH = "booth"
        JOB = "job"
        PROJECT = "project"
        RESUME = "resume"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    ref = models.BigIntegerField(help_text="id of the booth, job, project or résumé owner")
    title = models.CharField(max_length=400)
    country = models.CharField(max_length=2, blank=True)
    tags = models.JSONField(default=list, blank=True)
    hall = models.BigIntegerField(null=True, blank=True)
    booth = models.BigIntegerField(null=True, blank=True)
    job_type = models.CharField(max_length=20, blank=True)
    stage = models.CharField(max_length=16, blank=True)
    #: Title and body folded (search/text.py ``entry_text``): what the text index holds.
    text = models.TextField(blank=True, default="")
    #: The title folded: what the ranking looks for the query in.
    head = models.TextField(blank=True, default="")
    #: False for closed jobs and for résumés whose owner has not opted in: never returned.
    listed = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "ref"], name="search_entry_once")]
        indexes = [models.Index(fields=["kind", "listed"], name="search_entry_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}"


class Body(models.Model):
    """An entry's text as written (descriptions, a résumé's PDF text), from which its snippet
    is cut: kept apart from :class:`Entry` so that the rows a search reads for every match
    stay narrow; only the page's bodies are read."""

    entry = models.OneToOneField(Entry, on_delete=models.CASCADE, primary_key=True,
                                 related_name="+")
    body = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"body of {self.entry_id}"


class Word(models.Model):
    """A folded word seen in some entry's text (letters only, 4 to 32 long), for the typo step:
    a misspelt query word stands for the vocabulary words one edit away from it.
    Words are added as entries are written and only dropped by ``search_rebuild``, so a word
    may outlive the last entry holding it (it then matches nothing)."""

    word = models.CharField(max_length=32, unique=True)

    def __str__(self) -> str:
        return self.word
