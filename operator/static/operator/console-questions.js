// The audience's questions: moderated in place (approve, on screen, answered, dismiss), and an
// approved one pushed into a presenter's chat, those on air offered first.
import { $ } from "./console-ui.js";
import { bySerial, onAirPresenters } from "./stage-views.js";

// The moderation buttons, by the status each sets (the statuses: the contract's question_status).
export const QUESTION_ACTIONS = { approved: "Approve", on_screen: "On screen", answered: "Answered", dismissed: "Dismiss" };
// Questions that may be pushed to a presenter.
const SENDABLE = ["approved", "on_screen"];

export function createQuestions(page) {
  function render(state) {
    const sentTo = questionsSent(state);
    const list = $("questions");
    const ids = Object.keys(state.questions).sort(bySerial);
    const keep = new Set(ids);
    for (const item of [...list.children]) if (!keep.has(item.dataset.question)) item.remove();
    for (const qid of ids) {
      const question = state.questions[qid];
      const item = list.querySelector(`[data-question="${qid}"]`) || newItem(list, qid);
      item.dataset.status = question.status;
      item.querySelector(".question-text").textContent = `${question.name ? `${question.name}: ` : ""}${question.text}`;
      for (const button of item.querySelectorAll("button")) button.disabled = button.dataset.status === question.status;
      renderSending(state, item, qid, question, sentTo[qid] || []);
    }
  }

  function newItem(list, qid) {
    const item = document.createElement("li");
    item.dataset.question = qid;
    const text = document.createElement("span");
    text.className = "question-text";
    const actions = document.createElement("span");
    actions.className = "question-actions";
    for (const [status, action] of Object.entries(QUESTION_ACTIONS)) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.status = status;
      button.textContent = action;
      button.addEventListener("click", () => page.send("set_question_status", { question: qid, status }));
      actions.append(button);
    }
    item.append(text, actions);
    list.append(item);
    return item;
  }

  function renderSending(state, item, qid, question, sentNames) {
    let select = item.querySelector(".send-question");
    const sendable = SENDABLE.includes(question.status) && state.phase !== "ended";
    if (!select) {
      select = document.createElement("select");
      select.className = "send-question";
      select.setAttribute("aria-label", "Send to presenter");
      select.addEventListener("change", () => {
        if (select.value) page.send("send_question", { question: qid, presenter: select.value });
        select.value = "";
      });
      const sentLabel = document.createElement("span");
      sentLabel.className = "question-sent";
      item.querySelector(".question-actions").append(select, sentLabel);
    }
    select.hidden = !sendable;
    const speaking = new Set(onAirPresenters(state));
    const pids = Object.keys(state.presenters).sort((a, b) => speaking.has(b) - speaking.has(a));
    const options = pids.map((pid) => [pid, `${state.presenters[pid].name}${speaking.has(pid) ? " (on air)" : ""}`]);
    const signature = JSON.stringify(options);
    if (select.dataset.options !== signature && document.activeElement !== select) {
      select.dataset.options = signature;
      select.replaceChildren(new Option("Send to presenter…", ""), ...options.map(([pid, name]) => new Option(name, pid)));
    }
    item.querySelector(".question-sent").textContent = sentNames.length ? `→ ${sentNames.join(", ")}` : "";
  }

  return { render };
}

// Which presenters each question was pushed to (the chat lines that carry it).
function questionsSent(state) {
  const sent = {};
  for (const message of Object.values(state.messages)) {
    if (!message.question) continue;
    const names = (sent[message.question] ||= []);
    const name = state.presenters[message.presenter]?.name || message.presenter;
    if (!names.includes(name)) names.push(name);
  }
  return sent;
}
