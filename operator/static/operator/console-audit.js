// The audit log, newest first: who did what, when, at which version; ids shown by name where the
// state knows them. The mixer's and the system's facts are hidden unless asked for (an off-air
// alarm never is).
import { $, formatTime, who } from "./console-ui.js";

const AUDIT_ROWS = 200;
const ID_FIELDS = ["line", "presenter", "to", "segment", "before"];

export function createAudit(page) {
  $("audit-facts").addEventListener("change", (event) => {
    $("audit").classList.toggle("with-facts", event.target.checked);
  });

  function readable(key, value) {
    const state = page.state();
    const named = (id) => state?.presenters[id]?.name || state?.lines[id]?.label || state?.segments[id]?.title || id;
    if (ID_FIELDS.includes(key) && typeof value === "string") return named(value);
    if (key === "presenters" && Array.isArray(value)) return `[${value.map(named).join(", ")}]`;
    return JSON.stringify(value);
  }

  // `reset`: these entries are the whole log (a snapshot's), not new ones.
  function show(entries, reset) {
    const list = $("audit");
    if (reset) list.replaceChildren();
    for (const entry of entries) {
      if (list.querySelector(`[data-version="${entry.version}"]`)) continue;
      const item = document.createElement("li");
      item.dataset.version = entry.version;
      item.dataset.role = entry.role;
      item.dataset.type = entry.type;
      const details = Object.entries(entry.details).map(([k, v]) => `${k}=${readable(k, v)}`).join(" ");
      const chapter = entry.chapter ? ` — “${entry.chapter}”` : "";
      item.textContent = `${formatTime(entry.at)} v${entry.version} ${who(entry.actor)} ${entry.type} ${details}${chapter}`;
      list.prepend(item);
    }
    while (list.children.length > AUDIT_ROWS) list.lastElementChild.remove();
  }

  return { show };
}
