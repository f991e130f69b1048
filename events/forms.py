"""The registration form: name and email always, then what the organiser configured for the event."""

import re

from django import forms
from django.core.exceptions import ValidationError

from events.models import Event, FieldMode, Question
from events.registration import normalise_email

SHORT_TEXT_MAX = 300
LONG_TEXT_MAX = 4000
# A tag, not a lone "<": "<script", "</b", "<!--", "<?php"; "a < b" and "<3" are fine.
MARKUP = re.compile(r"<\s*[/!?]?\s*[a-zA-Z]|<!--")


def no_markup(value: str) -> None:
    if isinstance(value, str) and MARKUP.search(value):
        raise ValidationError("Please use plain text: HTML tags such as <script> are not accepted.", code="markup")


class RegistrationForm(forms.Form):
    name = forms.CharField(max_length=120, validators=[no_markup])
    email = forms.EmailField(max_length=254)

    def __init__(self, event: Event, *args, questions: list[Question] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        self.questions = list(event.questions.all()) if questions is None else questions
        for name, mode, label in (
            ("organisation", event.organisation_field, "Organisation"),
            ("job_title", event.job_title_field, "Job title"),
        ):
            if mode != FieldMode.HIDDEN:
                self.fields[name] = forms.CharField(
                    label=label, max_length=200, required=mode == FieldMode.REQUIRED, validators=[no_markup]
                )
        for question in self.questions:
            self.fields[question.field_name] = _field_for(question)

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Please enter your name.", code="required")
        return name

    def answers(self) -> dict:
        """Answers by question id; unanswered optional questions are left out."""
        answers = {}
        for question in self.questions:
            value = self.cleaned_data.get(question.field_name)
            if value not in (None, "", [], False):
                answers[str(question.pk)] = value
        return answers


def _field_for(question: Question) -> forms.Field:
    common = {"label": question.label, "help_text": question.help_text, "required": question.required}
    kind = question.kind
    if kind == Question.Kind.SHORT_TEXT:
        return forms.CharField(max_length=SHORT_TEXT_MAX, validators=[no_markup], **common)
    if kind == Question.Kind.LONG_TEXT:
        return forms.CharField(
            max_length=LONG_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 4}), validators=[no_markup], **common
        )
    choices = [(choice, choice) for choice in question.choice_list()]
    if kind == Question.Kind.SINGLE_CHOICE:
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if kind == Question.Kind.MULTIPLE_CHOICE:
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    return forms.BooleanField(error_messages={"required": "Please tick this box to register."}, **common)
