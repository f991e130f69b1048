import assert from "node:assert/strict";
import { test } from "node:test";

import { deckList, keyStep, mayTurn, shownSlide, slideUrl, speakingNames, turned } from "../../operator/static/operator/slides-views.js";

const state = (overrides = {}) => ({
  presenters: { p1: { name: "Ada", line: "p1" }, p2: { name: "Bea", line: "p2" } },
  lines: { p1: { on_air: true }, p2: { on_air: false } },
  decks: {
    d10: { title: "Later", pages: 2, files: "bbbb", presenter: null, segment: "s1" },
    d9: { title: "Ada's", pages: 3, files: "aaaa", presenter: "p1", segment: null },
  },
  slide: { deck: "d9", page: 2 },
  presenter_slides: true,
  ...overrides,
});

test("a page's images are addressed under the event's slides folder", () => {
  assert.equal(slideUrl("/hls/4/slides/", "aaaa", 2), "/hls/4/slides/aaaa/2.view.webp");
  assert.equal(slideUrl("/hls/4/slides/", "aaaa", 2, "thumb"), "/hls/4/slides/aaaa/2.thumb.webp");
  assert.equal(slideUrl("/hls/4/slides/", "aaaa", 2, "full"), "/hls/4/slides/aaaa/2.full.png");
});

test("decks are listed oldest first by their number, not their text", () => {
  assert.deepEqual(deckList(state()).map((d) => d.id), ["d9", "d10"]);
});

test("the slide on screen knows its next page, and none after the last", () => {
  assert.deepEqual(shownSlide(state()), { deck: "d9", page: 2, pages: 3, files: "aaaa", title: "Ada's", next: 3 });
  assert.equal(shownSlide(state({ slide: { deck: "d9", page: 3 } })).next, null);
  assert.equal(shownSlide(state({ slide: null })), null);
  assert.equal(shownSlide(state({ slide: { deck: "d404", page: 1 } })), null);
});

test("only the presenter on air turns pages, while allowed and a deck is on screen", () => {
  assert.equal(mayTurn(state(), "p1"), true);
  assert.equal(mayTurn(state(), "p2"), false);
  assert.equal(mayTurn(state({ presenter_slides: false }), "p1"), false);
  assert.equal(mayTurn(state({ slide: null }), "p1"), false);
});

test("turning stops at either end of the deck", () => {
  assert.deepEqual(turned(state(), 1), { deck: "d9", page: 3 });
  assert.deepEqual(turned(state(), -1), { deck: "d9", page: 1 });
  assert.equal(turned(state({ slide: { deck: "d9", page: 3 } }), 1), null);
  assert.equal(turned(state({ slide: { deck: "d9", page: 1 } }), -1), null);
});

test("the arrow and page keys turn pages; other keys do nothing", () => {
  assert.deepEqual(["ArrowRight", "PageDown", "ArrowLeft", "PageUp", "Enter", " "].map(keyStep), [1, 1, -1, -1, 0, 0]);
});

test("the overlay's lower third names who the program carries: on air, heard, in roster order", () => {
  const live = state({
    phase: "live",
    hold: false,
    preview: { presenters: [] },
    lines: { p1: { on_air: true, muted: false }, p2: { on_air: true, muted: false } },
  });
  assert.deepEqual(speakingNames(live), ["Ada", "Bea"]);
  assert.deepEqual(speakingNames({ ...live, lines: { ...live.lines, p2: { on_air: true, muted: true } } }), ["Ada"]);
  assert.deepEqual(speakingNames({ ...live, hold: true }), []);
  assert.deepEqual(speakingNames({ ...live, phase: "preshow" }), []);
});
