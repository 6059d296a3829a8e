"""Django admin for recruitment: organisers look after jobs, applications and slots."""

from django.contrib import admin

from .models import Application, ApplicationEvent, Job, Notice, Resume, Slot


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["title", "booth", "job_type", "country", "remote", "is_open", "deadline"]
    list_filter = ["is_open", "job_type", "remote"]
    search_fields = ["title", "booth__name"]
    raw_id_fields = ["booth", "created_by"]


class EventInline(admin.TabularInline):
    model = ApplicationEvent
    extra = 0
    readonly_fields = ["actor", "from_status", "to_status", "note", "at"]
    can_delete = False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["candidate", "job", "booth", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["candidate__username", "job__title", "booth__name"]
    raw_id_fields = ["job", "booth", "candidate"]
    inlines = [EventInline]


@admin.register(Resume)
class ResumeAdmin(admin.ModelAdmin):
    list_display = ["user", "pdf_name", "pdf_size", "updated_at"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
    exclude = ["pdf_text"]


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = ["booth", "host", "starts_at", "ends_at", "state", "application"]
    list_filter = ["state"]
    raw_id_fields = ["booth", "host", "application"]


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "read", "at"]
    list_filter = ["kind", "read"]
    raw_id_fields = ["user"]
