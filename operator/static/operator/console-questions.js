// The audience's questions: moderated in place (approve, on screen, answered, dismiss), and an
// approved one pushed into a presenter's chat, those on air offered first. Each shows the
// viewers' upvotes; the list is in the order asked or, at the producer's choice, most upvoted first.
import { $ } from "./console-ui.js";
import { bySerial, onAirPresenters } from "./stage-views.js";

// The moderation buttons, by the status each sets (the statuses: the contract's question_status).
export const QUESTION_ACTIONS = { approved: "Approve", on_screen: "On screen", answered: "Answered", dismissed: "Dismiss" };
// Questions that may be pushed to a presenter.
const SENDABLE = ["approved", "on_screen"];

// Question ids in the order asked ("asked") or most upvoted first, the order asked among equals ("votes").
export function questionOrder(questions, by) {
  const ids = Object.keys(questions).sort(bySerial);
  if (by !== "votes") return ids;
  const votes = (qid) => questions[qid].votes || 0;
  return ids.sort((a, b) => votes(b) - votes(a) || bySerial(a, b));
}

export function createQuestions(page) {
  const sort = $("questions-sort");
  sort.addEventListener("change", () => page.render());

  function render(state) {
    const sentTo = questionsSent(state);
    const list = $("questions");
    const ids = questionOrder(state.questions, sort.value);
    const keep = new Set(ids);
    for (const item of [...list.children]) if (!keep.has(item.dataset.question)) item.remove();
    ids.forEach((qid, index) => {
      const question = state.questions[qid];
      const item = list.querySelector(`[data-question="${qid}"]`) || newItem(list, qid);
      if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
      item.dataset.status = question.status;
      const votes = question.votes || 0;
      item.querySelector(".question-votes").textContent = `▲ ${votes}`;
      item.querySelector(".question-votes").title = `${votes} upvote${votes === 1 ? "" : "s"} from viewers`;
      item.querySelector(".question-text").textContent = `${question.name ? `${question.name}: ` : ""}${question.text}`;
      for (const button of item.querySelectorAll("button")) button.disabled = button.dataset.status === question.status;
      renderSending(state, item, qid, question, sentTo[qid] || []);
    });
  }

  function newItem(list, qid) {
    const item = document.createElement("li");
    item.dataset.question = qid;
    const votes = document.createElement("span");
    votes.className = "question-votes";
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
    item.append(votes, text, actions);
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
