"""The organisers' admin: events with their questions and presenters, presenters with their green-room
invitations, registrations with the registration actions."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from events import export, invitations, registration
from events.lines import line_source_rules
from events.models import Attendance, Event, Presenter, Question, Registration, Segment

PRESENTER_FIELDS = ["name", "title", "bio", "email", "line_source", "line_format", "position"]


class PresenterForm(forms.ModelForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        formats = line_source_rules().formats
        self.fields["line_format"].widget.choices = [("", "(probe)"), *((name, name) for name in formats)]

    class Meta:
        model = Presenter
        fields = PRESENTER_FIELDS
        widgets = {"line_format": forms.Select}
        help_texts = {
            "email": "Saving a new address emails the presenter their personal green-room link.",
            "line_source": "Blank: the presenter speaks from the browser. Otherwise an encoder or dial-in input: "
            "rtmp://, srt://, rtp://, udp://, http(s)://, or a file in the media folder (an .sdp file for RTP), "
            "as far as the server's line source policy allows.",
            "line_format": "Usually blank (FFmpeg probes); lavfi makes the source a test tone: one of sine, "
            "aevalsrc, anullsrc, anoisesrc with its options, like sine=frequency=440:sample_rate=48000.",
        }


class PresenterInline(admin.StackedInline):
    model = Presenter
    form = PresenterForm
    extra = 0
    fields = PRESENTER_FIELDS


class SegmentInline(admin.TabularInline):
    model = Segment
    extra = 0
    filter_horizontal = ["presenters"]


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = [("label", "kind", "required", "position"), "help_text", "choices"]


def _export(request: HttpRequest, registrations: QuerySet, filename: str):
    events = Event.objects.filter(pk__in=registrations.values("event")).order_by("pk")
    questions = list(Question.objects.filter(event__in=events).order_by("event", "position", "pk"))
    return export.response(request, registrations.order_by(), questions, filename)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "registration_open", "capacity", "requires_approval", "report_link"]
    list_filter = ["registration_open", "requires_approval"]
    prepopulated_fields = {"slug": ["title"]}
    search_fields = ["title", "slug"]
    filter_horizontal = ["producers"]
    inlines = [QuestionInline, PresenterInline, SegmentInline]
    actions = ["export_registrants", "open_registration", "close_registration"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "description", "starts_at", "duration", "time_zone", "producers"]}),
        ("Registration", {"fields": ["registration_open", "capacity", "requires_approval",
                                     "organisation_field", "job_title_field"]}),
    ]

    @admin.display(description="Report")
    def report_link(self, event: Event) -> str:
        return format_html('<a href="{}">Report</a>', reverse("events:report", args=[event.slug]))

    def save_model(self, request, event, form, change) -> None:
        super().save_model(request, event, form, change)
        if change and "capacity" in form.changed_data:
            promoted = registration.fill_seats(event)
            if promoted:
                self.message_user(request, f"{len(promoted)} waitlisted registrant(s) got a seat and were told.")

    @admin.action(description="Export registrants of the selected events (CSV)")
    def export_registrants(self, request, events: QuerySet):
        return _export(request, Registration.objects.filter(event__in=events), "registrants.csv")

    @admin.action(description="Open registration")
    def open_registration(self, request, events: QuerySet) -> None:
        events.update(registration_open=True)

    @admin.action(description="Close registration")
    def close_registration(self, request, events: QuerySet) -> None:
        events.update(registration_open=False)


@admin.register(Presenter)
class PresenterAdmin(admin.ModelAdmin):
    form = PresenterForm
    list_display = ["name", "event", "email", "line_source"]
    list_filter = ["event"]
    search_fields = ["name", "email", "event__title"]
    list_select_related = ["event"]
    fields = ["event", *PRESENTER_FIELDS]
    actions = ["send_invitation", "reissue_link"]

    @admin.action(description="Send green-room invitation")
    def send_invitation(self, request, presenters: QuerySet) -> None:
        selected = list(presenters.select_related("event"))
        sent = sum(invitations.invite(presenter) for presenter in selected)
        self.message_user(request, f"{sent} green-room invitation(s) sent.", messages.SUCCESS)
        self._without_email(request, len(selected) - sent)

    @admin.action(description="Revoke and reissue green-room link")
    def reissue_link(self, request, presenters: QuerySet) -> None:
        selected = list(presenters.select_related("event"))
        sent = sum(invitations.reissue_link(presenter) for presenter in selected)
        self.message_user(
            request, f"{len(selected)} old link(s) revoked; {sent} new link(s) sent by email.", messages.SUCCESS
        )
        self._without_email(request, len(selected) - sent)

    def _without_email(self, request, count: int) -> None:
        if count:
            self.message_user(request, f"{count} presenter(s) have no email address to send to.", messages.WARNING)


class AttendanceInline(admin.StackedInline):
    model = Attendance
    fk_name = "registration"
    can_delete = False
    readonly_fields = ["first_seen", "last_seen", "seconds_live", "seconds_replay"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "event", "status", "created_at", "link_state", "watched"]
    list_filter = ["status", "event", "created_at"]
    search_fields = ["name", "email", "organisation", "job_title"]
    list_select_related = ["event", "attendance"]
    date_hierarchy = "created_at"
    readonly_fields = ["event", "email", "status", "status_changed_at", "created_at", "answers_display", "link_state"]
    fields = ["event", "name", "email", "organisation", "job_title", "status", "status_changed_at", "created_at",
              "answers_display", "link_state"]
    inlines = [AttendanceInline]
    actions = ["approve", "reject", "cancel", "resend_link", "revoke_link", "export"]

    def has_add_permission(self, request) -> bool:
        return False  # registrations come through the form, where the rules hold

    @admin.display(description="Link")
    def link_state(self, registration: Registration) -> str:
        return "revoked" if registration.link_revoked else "active"

    @admin.display(description="Watched (s)")
    def watched(self, registration: Registration) -> int | None:
        attendance = getattr(registration, "attendance", None)
        return attendance.seconds_watched if attendance else None

    @admin.display(description="Answers")
    def answers_display(self, registration: Registration) -> str:
        questions = {str(q.pk): q.label for q in registration.event.questions.all()}
        rows = [(questions.get(pk, f"(deleted question {pk})"), export.answer_text(value))
                for pk, value in registration.answers.items()]
        if not rows:
            return "–"
        return format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    def _each(self, request, registrations: QuerySet, change, done: str) -> None:
        """Apply a registration service to each selected row; report how many it changed."""
        changed = 0
        for item in registrations.select_related("event"):
            before = item.status
            result = change(item)  # a bool (did it), or the registration afterwards
            changed += result if isinstance(result, bool) else result.status != before
        self.message_user(request, f"{changed} registration(s) {done}.", messages.SUCCESS)

    @admin.action(description="Approve (confirm or waitlist) and tell them")
    def approve(self, request, registrations: QuerySet) -> None:
        self._each(request, registrations, registration.approve, "approved")

    @admin.action(description="Reject and tell them")
    def reject(self, request, registrations: QuerySet) -> None:
        self._each(request, registrations, registration.reject, "rejected")

    @admin.action(description="Cancel (frees seats for the waitlist) and tell them")
    def cancel(self, request, registrations: QuerySet) -> None:
        self._each(request, registrations, registration.cancel, "cancelled")

    @admin.action(description="Resend the personal link")
    def resend_link(self, request, registrations: QuerySet) -> None:
        self._each(request, registrations, registration.resend_link, "sent their link again")

    @admin.action(description="Revoke the personal link")
    def revoke_link(self, request, registrations: QuerySet) -> None:
        self._each(request, registrations, registration.revoke_link, "revoked")

    @admin.action(description="Export the selected registrants (CSV)")
    def export(self, request, registrations: QuerySet):
        return _export(request, registrations, "registrants.csv")
