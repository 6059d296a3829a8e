"""Django admin for the expo: organisers edit halls and booths, moderators look after chat."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from .models import (
    AuditEntry,
    Booth,
    BoothStaff,
    ChatMessage,
    Expo,
    FilteredWord,
    Hall,
    HeldMessage,
    Profile,
    Question,
    Report,
    Roadshow,
    Room,
    Sanction,
)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "kind", "organisation"]
    list_filter = ["kind"]
    search_fields = ["display_name", "user__username", "user__email", "organisation"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]


@admin.register(Expo)
class ExpoAdmin(admin.ModelAdmin):
    list_display = ["name", "name_zh", "slug", "starts_on", "ends_on"]
    search_fields = ["name", "name_zh", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Hall)
class HallAdmin(admin.ModelAdmin):
    list_display = ["name", "name_zh", "expo", "color", "position", "booth_count"]
    list_editable = ["position"]
    list_filter = ["expo"]
    search_fields = ["name", "name_zh"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["expo"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(booth_count=Count("booths"))

    @admin.display(description="booths", ordering="booth_count")
    def booth_count(self, obj: Hall) -> int:
        return obj.booth_count


class BoothStaffInline(admin.TabularInline):
    model = BoothStaff
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Booth)
class BoothAdmin(admin.ModelAdmin):
    list_display = ["name", "hall", "kind", "country"]
    list_filter = ["hall", "kind", "country"]
    search_fields = ["name", "name_zh", "description"]
    list_select_related = ["hall"]
    inlines = [BoothStaffInline]


@admin.register(Roadshow)
class RoadshowAdmin(admin.ModelAdmin):
    list_display = ["title", "booth", "starts_at", "state"]
    list_filter = ["state"]
    search_fields = ["title", "presenter_name", "booth__name"]
    date_hierarchy = "starts_at"
    raw_id_fields = ["booth", "presenter"]
    list_select_related = ["booth"]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "hall", "booth", "last_seq", "read_only"]
    list_filter = ["kind"]
    search_fields = ["title"]
    # The sequence counter belongs to the chat service; editing it would break resume.
    readonly_fields = ["last_seq"]
    raw_id_fields = ["hall", "booth", "roadshow"]
    list_select_related = ["hall", "booth"]


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ["room", "seq", "author_name", "created_at", "deleted_at"]
    search_fields = ["body"]
    raw_id_fields = ["room", "author"]
    list_select_related = ["room"]


@admin.register(FilteredWord)
class FilteredWordAdmin(admin.ModelAdmin):
    """The word filter: edits take effect on every process within a few seconds."""

    list_display = ["word", "action"]
    list_filter = ["action"]
    search_fields = ["word"]


@admin.register(Sanction)
class SanctionAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "room", "until", "lifted_at", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["user__username", "reason"]
    raw_id_fields = ["user", "room", "created_by"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "target", "room", "reason"]
    list_filter = ["action"]
    search_fields = ["reason", "actor__username", "target__username"]
    date_hierarchy = "created_at"

    # The audit log is a record: nobody edits or deletes it from the admin.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["message", "reporter", "reason", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["message", "reporter"]


@admin.register(HeldMessage)
class HeldMessageAdmin(admin.ModelAdmin):
    list_display = ["room", "author_name", "word", "created_at"]
    raw_id_fields = ["room", "author"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["body", "room", "author_name", "status", "votes", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["room", "author"]
