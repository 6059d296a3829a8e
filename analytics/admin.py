from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("at", "kind", "booth_id", "roadshow_id", "user_id", "seconds")
    list_filter = ("kind",)
    date_hierarchy = "at"
