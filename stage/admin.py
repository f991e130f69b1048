from django import forms
from django.contrib import admin

from stage import decks
from stage.models import Deck, StageLogEntry
from stage.pdf_pages import DeckRefused


@admin.register(StageLogEntry)
class StageLogEntryAdmin(admin.ModelAdmin):
    list_display = ["event", "version", "actor", "role", "chapter", "applied_at"]
    list_filter = ["event"]
    readonly_fields = ["event", "version", "actor", "role", "client_id", "command", "applied_at", "chapter"]


class DeckForm(forms.ModelForm):
    pdf = forms.FileField(label="PDF", required=False, help_text="The slides, one PDF; rendered after saving.")

    class Meta:
        model = Deck
        fields = ["event", "title", "presenter", "segment", "downloadable"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None and cleaned.get("pdf") is not None:
            raise forms.ValidationError({"pdf": "A deck's PDF cannot be replaced: add a new deck instead."})
        if self.instance.pk is None:
            upload = cleaned.get("pdf")
            if upload is None:
                raise forms.ValidationError({"pdf": "Choose the PDF of the deck."})
            try:
                self.checked_pdf = decks.checked(upload)
            except DeckRefused as refusal:
                raise forms.ValidationError({"pdf": refusal.message}) from None
        event = cleaned.get("event")
        for field in ("presenter", "segment"):
            chosen = cleaned.get(field)
            if chosen is not None and event is not None and chosen.event_id != event.pk:
                self.add_error(field, "Choose one of this event's.")
        return cleaned


@admin.register(Deck)
class DeckAdmin(admin.ModelAdmin):
    """Organisers upload a deck per segment or presenter and watch it render (refresh the list)."""

    form = DeckForm
    list_display = ["title", "event", "presenter", "segment", "progress", "downloadable", "uploaded_at"]
    list_filter = ["event"]
    readonly_fields = ["progress"]

    @admin.display(description="rendered")
    def progress(self, deck: Deck) -> str:
        if deck.pk is None:
            return "-"
        if deck.status == Deck.FAILED:
            return f"failed: {deck.error}"
        return f"{deck.pages_done} / {deck.pages} pages" + (" (ready)" if deck.status == Deck.READY else "")

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "event"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj: Deck, form: DeckForm, change: bool) -> None:
        if change:
            obj.save()
            if obj.status == Deck.READY:
                decks.announce(obj)
            return
        decks.keep(obj, *form.checked_pdf, form.cleaned_data["pdf"].name)

    def delete_model(self, request, obj: Deck) -> None:
        decks.delete(obj)

    def delete_queryset(self, request, queryset) -> None:
        for deck in queryset:
            decks.delete(deck)
