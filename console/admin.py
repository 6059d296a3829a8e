from django.contrib import admin

from .models import Bookmark, BoothTexts, InboxState


@admin.register(InboxState)
class InboxStateAdmin(admin.ModelAdmin):
    list_display = ("booth", "source", "ref", "status", "read", "updated_at", "updated_by")
    list_filter = ("source", "read")


@admin.register(BoothTexts)
class BoothTextsAdmin(admin.ModelAdmin):
    list_display = ("booth", "logo")


@admin.register(Bookmark)
class BookmarkAdmin(admin.ModelAdmin):
    list_display = ("user", "roadshow", "reminded")
