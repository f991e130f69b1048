"""A presenter's decks from the green room: upload a PDF, and watch it render (pages done / total).

The key in the path is the credential (as for the green room page itself), so these are exempt
from CSRF (whose refusal would log the path with the key) and never logged.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from events import keyed
from events.access import unlogged
from events.models import Presenter
from stage import decks
from stage.models import Deck
from stage.pdf_pages import DeckRefused

# Room for the multipart envelope and a title around the file itself.
ENVELOPE_BYTES = 64 * 1024


def deck_record(deck: Deck) -> dict:
    """A deck as the green room lists it."""
    return {
        "id": deck.stage_id,
        "title": deck.title,
        "pages": deck.pages,
        "pages_done": deck.pages_done,
        "status": deck.status,
        "error": deck.error,
    }


@csrf_exempt
def presenter_decks(request: HttpRequest, presenter_pk: int, key: str) -> HttpResponse:
    """GET: the presenter's decks, newest last. POST (multipart `pdf`, optional `title`): upload
    one; 201 with the deck, 400 or 413 with {"error": why} and nothing kept."""
    if request.method not in ("GET", "POST"):
        return keyed.method_not_allowed("GET", "POST")
    presenter = keyed.find_by_link(request, Presenter.objects.select_related("event"), presenter_pk, key, page=False)
    if isinstance(presenter, HttpResponse):
        return presenter
    if request.method == "GET":
        listed = [deck_record(deck) for deck in Deck.objects.filter(presenter=presenter).order_by("uploaded_at")]
        return _private(JsonResponse({"decks": listed}))
    try:
        # Refused before the body is read: an oversize upload is never spooled to disk.
        decks.refuse_oversize(max(0, int(request.META.get("CONTENT_LENGTH") or 0) - ENVELOPE_BYTES))
        upload = request.FILES.get("pdf")
        if upload is None:
            return _private(JsonResponse({"error": "Choose a PDF file."}, status=400))
        deck = decks.accept(presenter.event, upload, title=request.POST.get("title", ""), presenter=presenter)
    except DeckRefused as refusal:
        status = 413 if isinstance(refusal, decks.DeckTooLarge) else 400
        return _private(JsonResponse({"error": refusal.message}, status=status))
    deck.refresh_from_db()
    return _private(JsonResponse({"deck": deck_record(deck)}, status=201))


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return unlogged(response)
