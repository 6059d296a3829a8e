"""Django admin for project docking."""

from django.contrib import admin

from .models import Availability, InvestorProfile, Meeting, Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["title", "booth", "owner", "stage", "country"]
    list_filter = ["stage"]
    search_fields = ["title", "summary"]
    raw_id_fields = ["booth", "owner"]


@admin.register(InvestorProfile)
class InvestorAdmin(admin.ModelAdmin):
    list_display = ["user", "ticket_min", "ticket_max", "currency", "active"]
    raw_id_fields = ["user"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["id", "requester", "recipient", "project", "state", "starts_at"]
    list_filter = ["state"]
    raw_id_fields = ["requester", "recipient", "project", "booth", "proposed_by"]


admin.site.register(Availability, raw_id_fields=["user"])
