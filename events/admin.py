from django.contrib import admin

from events.models import Event, Presenter, Registration, Segment


class PresenterInline(admin.StackedInline):
    model = Presenter
    extra = 0
    fields = ["name", "title", "bio", "email", "line_source", "line_format", "position"]


class SegmentInline(admin.TabularInline):
    model = Segment
    extra = 0
    filter_horizontal = ["presenters"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "registration_open"]
    prepopulated_fields = {"slug": ["title"]}
    search_fields = ["title", "slug"]
    filter_horizontal = ["producers"]
    inlines = [PresenterInline, SegmentInline]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "event", "created_at"]
    list_filter = ["event"]
    search_fields = ["name", "email"]
    exclude = ["access_key"]
