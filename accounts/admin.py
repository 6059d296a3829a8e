from django.contrib import admin

from .models import Account


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["user", "country", "headline", "visible_to_booth_staff", "talent_search"]
    list_filter = ["talent_search", "visible_to_booth_staff"]
    search_fields = ["user__username", "user__email", "headline"]
    raw_id_fields = ["user"]
