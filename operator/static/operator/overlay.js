// The overlay for video mixers (OBS, vMix: a browser source): only the slide on screen and the
// now-speaking lower third, following the stage over a console socket, read-only (it sends no
// command). A producer's page: the browser source signs in once as a producer.
import { keepMediaPass } from "../events/media-pass.js";
import { StageSocket } from "./socket.js";
import { shownSlide, slideUrl, speakingNames } from "./slides-views.js";

const $ = (id) => document.getElementById(id);
const config = JSON.parse($("overlay-config").textContent);
const pass = keepMediaPass(config.media_pass, { csrfToken: config.csrf });

function render(state) {
  const shown = shownSlide(state);
  const image = $("overlay-slide");
  const src = shown ? slideUrl(config.slides, shown.files, shown.page, "view") : "";
  image.hidden = !src;
  if (src && image.dataset.src !== src) {
    image.dataset.src = src;
    image.alt = `Slide ${shown.page}`;
    pass.ready.then(() => { if (image.dataset.src === src) image.src = src; });
  }
  const names = speakingNames(state);
  $("lower-third").hidden = names.length === 0;
  $("lower-third-names").textContent = names.join(" · ");
}

new StageSocket(config.socket, {
  onState: render,
  onConnection: (connection) => { document.body.dataset.connection = connection; },
});
