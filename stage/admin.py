from django.contrib import admin

from stage.models import StageLogEntry


@admin.register(StageLogEntry)
class StageLogEntryAdmin(admin.ModelAdmin):
    list_display = ["event", "version", "actor", "role", "chapter", "applied_at"]
    list_filter = ["event"]
    readonly_fields = ["event", "version", "actor", "role", "client_id", "command", "applied_at", "chapter"]
