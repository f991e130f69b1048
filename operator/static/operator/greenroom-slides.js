// The slides in the green room: the slide on screen and the next one; for the presenter on air,
// when the producers allow it, buttons and the arrow keys to turn the pages; and the presenter's
// own decks: upload a PDF and watch it render (pages done / total) until it is ready.
import { keyStep, mayTurn, shownSlide, slideUrl, turned } from "./slides-views.js";

const $ = (id) => document.getElementById(id);
const PROGRESS_POLL_MS = 1000;

export class GreenroomSlides {
  // `send(type, fields)` sends a stage command; `pass` is the media pass keeper for the images.
  constructor({ me, base, decksUrl, send, pass }) {
    Object.assign(this, { me, base, decksUrl, send, pass });
    this.state = null;
    this.pollTimer = null;
    $("slide-back").addEventListener("click", () => this.turn(-1));
    $("slide-forward").addEventListener("click", () => this.turn(1));
    document.addEventListener("keydown", (event) => {
      const step = keyStep(event.key);
      const typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
      if (!step || typing || event.altKey || event.ctrlKey || event.metaKey || !this.mayTurn()) return;
      event.preventDefault();
      this.turn(step);
    });
    $("deck-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.upload(event.target);
    });
    this.refreshDecks();
  }

  mayTurn() {
    return Boolean(this.state && mayTurn(this.state, this.me));
  }

  turn(step) {
    const target = this.state && turned(this.state, step);
    if (target && this.mayTurn()) this.send("show_slide", target);
  }

  render(state) {
    this.state = state;
    const shown = shownSlide(state);
    this.image($("gr-slide-now"), shown && shown.files, shown && shown.page, "view");
    this.image($("gr-slide-next"), shown && shown.files, shown && shown.next, "thumb");
    $("gr-slide-label").textContent = shown ? `${shown.title}: slide ${shown.page} of ${shown.pages}` : "No slide on screen.";
    $("gr-slide-next-label").textContent = shown ? (shown.next ? `Next: slide ${shown.next}` : "The last slide.") : "";
    const may = this.mayTurn();
    $("slide-back").disabled = !may || !turned(state, -1);
    $("slide-forward").disabled = !may || !turned(state, 1);
    $("slide-driving").textContent = may
      ? "You turn the pages: the buttons or the arrow keys."
      : state.presenter_slides ? "You turn the pages while you are on air." : "The producers turn the pages.";
  }

  image(element, files, number, size) {
    const src = files && number ? slideUrl(this.base, files, number, size) : "";
    element.hidden = !src;
    if (src && element.dataset.src !== src) {
      element.dataset.src = src;
      this.pass.ready.then(() => { if (element.dataset.src === src) element.src = src; });
    }
  }

  async upload(form) {
    const button = form.querySelector("button");
    button.disabled = true;
    $("deck-upload-state").textContent = "Uploading…";
    try {
      const response = await fetch(this.decksUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" });
      const answer = await response.json().catch(() => ({ error: `The upload failed (${response.status}).` }));
      $("deck-upload-state").textContent = response.ok ? "Uploaded: rendering…" : answer.error;
      if (response.ok) form.reset();
    } catch {
      $("deck-upload-state").textContent = "The upload failed: no connection.";
    } finally {
      button.disabled = false;
    }
    this.refreshDecks();
  }

  // The presenter's decks and their rendering; asked again each second while one renders.
  async refreshDecks() {
    clearTimeout(this.pollTimer);
    let decks = [];
    try {
      const response = await fetch(this.decksUrl, { credentials: "same-origin", cache: "no-store" });
      if (response.ok) decks = (await response.json()).decks;
    } catch {
      // No connection: the next upload or reload asks again.
    }
    $("deck-list").replaceChildren(...decks.map((deck) => {
      const item = document.createElement("li");
      item.dataset.status = deck.status;
      const progress = deck.status === "failed" ? deck.error
        : deck.status === "ready" ? `${deck.pages} slides, ready` : `rendering: ${deck.pages_done} of ${deck.pages} pages`;
      item.textContent = `${deck.title} — ${progress}`;
      return item;
    }));
    if (decks.some((deck) => deck.status === "rendering")) {
      this.pollTimer = setTimeout(() => this.refreshDecks(), PROGRESS_POLL_MS);
    }
  }
}
