"""Admin for live video: booth leads and roadshow recordings."""

from __future__ import annotations

from django.contrib import admin

from .models import Lead, Recording


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["name", "contact", "booth", "created_at", "handled"]
    list_filter = ["handled"]
    list_editable = ["handled"]
    search_fields = ["name", "contact", "message", "booth__name"]
    raw_id_fields = ["booth", "user"]


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ["roadshow", "path", "started_at", "ended_at", "size"]
    raw_id_fields = ["roadshow"]
