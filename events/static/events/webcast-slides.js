// The webcast page's slides: the slide the listener is hearing about, from the stage card at the
// playhead, and in the replay the slide timeline, each slide a button that seeks the audio to
// when it came on screen. Decisions are in webcast-views.js; this module only touches the page.
import { clockText, replayPosition, slideImageUrl, slideTimeline } from "./webcast-views.js";

const $ = (id) => document.getElementById(id);

export function createSlides({ base, audio }) {
  let timelineKey = "";
  let fragments = [];
  let timeline = [];

  $("slides-timeline").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-index]");
    if (!button) return;
    const position = replayPosition(fragments, timeline[Number(button.dataset.index)].start);
    if (position !== null) audio.currentTime = position;
  });

  // The slide in the card, when the view shows the card; the image changes only with the slide.
  function show(card, visible) {
    const slide = visible && card ? card.slide : null;
    const figure = $("slide");
    figure.hidden = slide === null;
    if (slide === null) return;
    const src = slideImageUrl(base, slide);
    const image = $("slide-image");
    if (image.dataset.src !== src) {
      image.dataset.src = src;
      image.src = src;
      image.alt = `Slide ${slide.page}`;
    }
  }

  // The replay's playlist, loaded: its fragments place each tag's date in the audio.
  function replayLoaded(details) {
    fragments = details.fragments.map((fragment) => ({
      start: fragment.start,
      pdt: fragment.programDateTime ?? NaN,
    }));
  }

  function renderTimeline(ranges) {
    timeline = slideTimeline(ranges);
    const key = timeline.map((entry) => `${entry.start} ${entry.files}/${entry.page}`).join(",");
    if (key === timelineKey) return;
    timelineKey = key;
    const origin = fragments.length ? fragments[0].pdt : NaN;
    $("slides-timeline").replaceChildren(...timeline.map((entry, index) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.index = String(index);
      const thumb = document.createElement("img");
      thumb.src = slideImageUrl(base, entry, "thumb");
      thumb.alt = "";
      const at = replayPosition(fragments, entry.start) ?? (entry.start - origin) / 1000;
      const label = document.createElement("span");
      label.textContent = `Slide ${entry.page} · ${clockText(Number.isFinite(at) ? at : 0)}`;
      button.append(thumb, label);
      button.setAttribute("aria-label", `Slide ${entry.page}, from ${clockText(Number.isFinite(at) ? at : 0)}`);
      item.append(button);
      return item;
    }));
    $("slides-heading").hidden = timeline.length === 0;
  }

  // The entry at the playhead, marked as current.
  function mark(playingDate) {
    let current = -1;
    timeline.forEach((entry, index) => { if (entry.start <= playingDate) current = index; });
    document.querySelectorAll("#slides-timeline button").forEach((button, index) => {
      button.setAttribute("aria-current", index === current ? "true" : "false");
    });
  }

  return { show, replayLoaded, renderTimeline, mark };
}
