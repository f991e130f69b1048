// The slides in the console: the deck on screen as a strip of thumbnails (click one to show it),
// any other deck to browse, the slide on screen and the next one, and whether the presenter on
// air may turn the pages. The images need the event's media pass, kept here.
import { keepMediaPass } from "../events/media-pass.js";
import { $ } from "./console-ui.js";
import { deckList, shownSlide, slideUrl } from "./slides-views.js";

export function createSlides(page, { base, passUrl, csrfToken }) {
  const pass = keepMediaPass(passUrl, { csrfToken });
  let browsing = null; // the deck the strip shows, when not the one on screen
  let lastShown = null;

  $("slide-deck").addEventListener("change", (event) => {
    browsing = event.target.value || null;
    render(page.state());
  });
  $("slide-off").addEventListener("click", () => page.send("show_slide", { deck: null, page: 1 }));
  $("presenter-slides").addEventListener("change", (event) => {
    page.send("set_presenter_slides", { allowed: event.target.checked });
  });
  $("slide-strip").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-page]");
    if (button) page.send("show_slide", { deck: button.dataset.deck, page: Number(button.dataset.page) });
  });

  function image(element, files, number, size) {
    const src = files && number ? slideUrl(base, files, number, size) : "";
    element.hidden = !src;
    // Set only once the pass is in hand, and only on a change: the browser keeps the image.
    if (src && element.dataset.src !== src) {
      element.dataset.src = src;
      pass.ready.then(() => { if (element.dataset.src === src) element.src = src; });
    }
  }

  function render(state) {
    const decks = deckList(state);
    const shown = shownSlide(state);
    // A new deck on screen (a take brought it up, say) is the one to browse again.
    if (shown && shown.deck !== lastShown) browsing = null;
    lastShown = shown ? shown.deck : null;
    if (browsing && !state.decks[browsing]) browsing = null;
    const stripDeck = browsing || (shown && shown.deck) || (decks[0] && decks[0].id) || null;

    const select = $("slide-deck");
    // Rebuilt only when the decks change, so an open list is not pulled from under the producer.
    const choices = JSON.stringify(decks.map((deck) => [deck.id, deck.title, deck.pages]));
    if (select.dataset.choices !== choices) {
      select.dataset.choices = choices;
      select.replaceChildren(new Option("—", ""), ...decks.map((deck) => new Option(`${deck.title} (${deck.pages})`, deck.id)));
    }
    select.value = stripDeck || "";
    $("presenter-slides").checked = Boolean(state.presenter_slides);
    $("slide-now-label").textContent = shown ? `${shown.title}: slide ${shown.page} of ${shown.pages}` : "No slide on screen";
    image($("slide-now"), shown && shown.files, shown && shown.page, "view");
    image($("slide-next"), shown && shown.files, shown && shown.next, "thumb");
    $("slide-next-label").textContent = shown ? (shown.next ? `Next: slide ${shown.next}` : "Last slide") : "";

    const strip = $("slide-strip");
    const deck = stripDeck && state.decks[stripDeck];
    if (!deck) {
      strip.replaceChildren();
      return;
    }
    if (strip.dataset.deck !== stripDeck || strip.children.length !== deck.pages) {
      strip.dataset.deck = stripDeck;
      strip.replaceChildren(...Array.from({ length: deck.pages }, (_, index) => thumbnail(stripDeck, deck, index + 1)));
    }
    for (const button of strip.querySelectorAll("button[data-page]")) {
      const current = shown && shown.deck === stripDeck && Number(button.dataset.page) === shown.page;
      button.setAttribute("aria-current", current ? "true" : "false");
    }
  }

  function thumbnail(deckId, deck, number) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.deck = deckId;
    button.dataset.page = String(number);
    button.setAttribute("aria-label", `Show slide ${number}`);
    const img = document.createElement("img");
    img.alt = "";
    image(img, deck.files, number, "thumb");
    const caption = document.createElement("span");
    caption.textContent = String(number);
    button.append(img, caption);
    item.append(button);
    return item;
  }

  return { render };
}
