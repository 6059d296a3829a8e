"""What a person tells the expo about themselves, beyond the identity in ``booths.Profile``.

The display name, the kind (guest, visitor, ...) and the organisation stay on
``booths.Profile``, which every connection loads; this is the public profile and its privacy
choices, kept by the ``accounts`` app so that recruitment and project docking share it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Account(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="account")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code")
    languages = models.JSONField(default=list, blank=True)
    headline = models.CharField(max_length=200, blank=True)
    interests = models.JSONField(default=list, blank=True, help_text="fields of interest (tags)")
    # Privacy: whether booth staff may see the profile, and whether recruiters may find the
    # résumé in a talent search.
    visible_to_booth_staff = models.BooleanField(default=True)
    talent_search = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"account of {self.user}"
