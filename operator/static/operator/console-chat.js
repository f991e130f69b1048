// The private chat with one presenter at a time: their conversation from the state, oldest first,
// kept scrolled to the newest line; a line can go as a custom cue instead.
import { $, formatTime, who } from "./console-ui.js";
import { serial } from "./stage-views.js";

export function createChat(page) {
  let chatTo = null;

  $("chat-to").addEventListener("change", (event) => select(event.target.value));
  $("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("chat-text").value.trim();
    if (!text || !chatTo) return;
    if (page.send("message", { presenter: chatTo, text })) $("chat-text").value = "";
  });
  $("chat-cue").addEventListener("click", () => {
    const text = $("chat-text").value.trim();
    if (!text || !chatTo) return;
    if (page.send("cue", { to: chatTo, kind: "custom", text })) $("chat-text").value = "";
  });

  function render(state) {
    const picker = $("chat-to");
    const pids = Object.keys(state.presenters);
    if (picker.options.length !== pids.length) {
      picker.replaceChildren(...pids.map((pid) => new Option(state.presenters[pid].name, pid)));
    }
    if (!chatTo || !pids.includes(chatTo)) chatTo = pids[0] || null;
    picker.value = chatTo || "";
    const log = $("chat-log");
    const mine = Object.entries(state.messages)
      .filter(([, message]) => message.presenter === chatTo)
      .sort(([a], [b]) => serial(a) - serial(b));
    const shown = new Set(mine.map(([mid]) => mid));
    for (const item of [...log.children]) if (!shown.has(item.dataset.message)) item.remove();
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    for (const [mid, message] of mine) {
      if (log.querySelector(`[data-message="${mid}"]`)) continue;
      const item = document.createElement("li");
      item.dataset.message = mid;
      item.dataset.from = message.from;
      const author = message.from === "producer" ? who(message.by) : state.presenters[message.presenter].name;
      item.textContent = `${formatTime(message.at)} ${author}: ${message.text}`;
      log.append(item);
    }
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function select(pid) {
    chatTo = pid;
    $("chat-log").replaceChildren();
    render(page.state());
    $("chat-text").focus();
  }

  return { render, select };
}
