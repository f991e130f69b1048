"""What the Content-Security-Policy relies on, checked in the sources: no page template has inline
script, style or event handlers (json_script blocks are data, written by the filter, not here),
and no script of ours builds HTML from strings (user texts go in with textContent)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
# Emails are not pages: mail programs need inline styles, and no CSP applies to them.
TEMPLATES = [path for path in sorted(BASE.glob("*/templates/**/*.html")) if "/email/" not in str(path)]
# Ours only: not vendored code, nor the copies collectstatic makes (Django's admin among them)
# under VAR_DIR, this run's or the default one a run in the other mode left in the checkout.
COLLECTED = (Path(settings.STATIC_ROOT), BASE / "var")
SCRIPTS = [
    path
    for path in sorted(BASE.glob("*/static/**/*.js"))
    if "/vendor/" not in str(path) and not any(path.is_relative_to(root) for root in COLLECTED)
]

INLINE_IN_TEMPLATES = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "a style block": re.compile(r"<style\b", re.IGNORECASE),
    "a style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}
HTML_FROM_STRINGS = re.compile(
    r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function\("
)


def test_there_are_templates_and_scripts_to_check():
    assert len(TEMPLATES) >= 20 and len(SCRIPTS) >= 10


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(BASE)))
def test_no_template_has_inline_code_or_style(path):
    text = path.read_text()
    found = [what for what, pattern in INLINE_IN_TEMPLATES.items() if pattern.search(text)]
    assert found == []


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: str(path.relative_to(BASE)))
def test_no_script_builds_html_from_strings(path):
    assert HTML_FROM_STRINGS.findall(path.read_text()) == []
