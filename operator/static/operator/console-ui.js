// Small pieces every part of the console uses: element lookup, the notice line, the confirmation
// dialog, and how names and times are written.

export const $ = (id) => document.getElementById(id);

let noticeTimer = null;

export function notify(text) {
  const notice = $("notice");
  notice.textContent = text;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { notice.textContent = ""; }, 6000);
}

export function confirmThen(text, action) {
  const dialog = $("confirm");
  $("confirm-text").textContent = text;
  dialog.onclose = () => {
    if (dialog.returnValue === "ok") action();
  };
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-ok").focus();
}

export function names(state, pids) {
  return pids.map((pid) => state.presenters[pid]?.name || pid).join(", ") || "nobody";
}

export function formatTime(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

// A producer's actor name as people read it ("user:bob" is bob).
export function who(actor) {
  return actor.replace(/^user:/, "");
}
