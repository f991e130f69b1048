// The slides as the console and the green room see them: the slide on screen, the next one, who
// may turn the pages, and the images' addresses. Pure; tested by node (tests/js/slides-views.test.js).

import { tally } from "./stage-views.js";

// The images of a page (stage/pdf_pages.py): the viewer's, the thumbnail, the download.
export const SIZES = { view: "view.webp", thumb: "thumb.webp", full: "full.png" };

// The address of a page's image under the event's slides folder (`base` ends with a slash).
export function slideUrl(base, files, page, size = "view") {
  return `${base}${files}/${page}.${SIZES[size]}`;
}

// The decks on the stage, oldest first (ids are "d<number>").
export function deckList(state) {
  return Object.entries(state.decks || {})
    .sort(([a], [b]) => Number(a.slice(1)) - Number(b.slice(1)))
    .map(([id, deck]) => ({ id, ...deck }));
}

// The slide on screen with its deck, and the page after it (null at the end), or null for none.
export function shownSlide(state) {
  const slide = state.slide;
  const deck = slide && (state.decks || {})[slide.deck];
  if (!deck) return null;
  return {
    deck: slide.deck,
    page: slide.page,
    pages: deck.pages,
    files: deck.files,
    title: deck.title,
    next: slide.page < deck.pages ? slide.page + 1 : null,
  };
}

// Whether this presenter may turn the pages now: producers allow it, their line is on air and a
// deck is on screen (the same rules as stage/slides.py, which decides).
export function mayTurn(state, presenterId) {
  const presenter = state.presenters[presenterId];
  const line = presenter && state.lines[presenter.line];
  return Boolean(state.presenter_slides && line && line.on_air && shownSlide(state));
}

// The show_slide command that turns `step` pages (1: next, -1: back), or null past either end.
export function turned(state, step) {
  const shown = shownSlide(state);
  if (!shown) return null;
  const page = shown.page + step;
  return page >= 1 && page <= shown.pages ? { deck: shown.deck, page } : null;
}

// The names the program carries now, for the overlay's lower third: presenters whose tally is
// "program" (on air and heard), in roster order.
export function speakingNames(state) {
  return Object.keys(state.presenters).filter((pid) => tally(state, pid) === "program").map((pid) => state.presenters[pid].name);
}

// The page-turning keys, as a step, or 0 for any other key.
export function keyStep(key) {
  if (key === "ArrowRight" || key === "PageDown") return 1;
  if (key === "ArrowLeft" || key === "PageUp") return -1;
  return 0;
}
