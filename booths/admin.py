"""Django admin for the expo: organisers edit halls and booths, moderators look after chat."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count

from .models import Booth, BoothStaff, ChatMessage, Expo, Hall, Profile, Roadshow, Room


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
    list_display = ["room", "seq", "author_name", "created_at"]
    search_fields = ["body"]
    raw_id_fields = ["room", "author"]
    list_select_related = ["room"]
