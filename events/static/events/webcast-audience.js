// The viewer's Q&A and polls: ask a question, follow its status, upvote the audience's questions
// (each once) and answer the poll in play, all over plain HTTP. The shared list (audience.json,
// cacheable) is polled every few seconds; the viewer's own (mine.json) at start, after each of
// their actions and, while one of their questions may still change, every little while.
import {
  askingId, mineUnsettled, mineWithPublicStatus, nextDelay, pollView, questionBody, questionProblem, questionRows,
  refusalText, statusText,
} from "./audience-views.js";

const AUDIENCE_MS = 5000;
const MINE_MS = 15000;

const panel = document.getElementById("audience");
const urls = panel.dataset;
const limits = { text: Number(urls.textLimit), name: Number(urls.nameLimit) };
const csrf = panel.querySelector("input[name=csrfmiddlewaretoken]").value;
const $ = (id) => document.getElementById(id);

let audience = null;
let mine = { questions: [], upvoted: [], answers: {} };
// Upvotes sent from this page: the count each question showed then (audience-views.js questionRows).
const sentVotes = {};
// The question being asked, until the server confirmed it: sent again, it keeps its client id.
let pendingAsk = null;

// 128 random bits as hex (crypto.randomUUID needs a secure context; this does not).
function randomId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, body: answer };
}

async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${response.status}`);
  return response.json();
}

function say(id, text) {
  $(id).textContent = text;
}

function renderMine() {
  const list = $("my-questions");
  list.replaceChildren(...mine.questions.map((question) => {
    const item = document.createElement("li");
    item.dataset.status = question.status;
    const text = document.createElement("span");
    text.textContent = question.text;
    const status = document.createElement("small");
    status.className = "my-status";
    status.textContent = ` · ${statusText(question.status)}${question.votes ? ` · ${question.votes} upvote${question.votes === 1 ? "" : "s"}` : ""}`;
    item.append(text, status);
    return item;
  }));
  $("my-questions-title").hidden = mine.questions.length === 0;
}

// Updated in place, keyed by question: a keyboard user's focus on an upvote button survives the
// refreshes, and nothing is rebuilt that did not change.
function renderQuestions() {
  const rows = questionRows(audience, mine.upvoted, sentVotes);
  const list = $("audience-questions");
  const keep = new Set(rows.map((row) => row.id));
  for (const item of [...list.children]) if (!keep.has(item.dataset.question)) item.remove();
  rows.forEach((row, index) => {
    const item = list.querySelector(`[data-question="${row.id}"]`) || newQuestion(row.id);
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
    item.dataset.status = row.status;
    item.querySelector(".question-text").textContent = row.name ? `${row.name}: ${row.text}` : row.text;
    const button = item.querySelector("button.upvote");
    button.textContent = `▲ ${row.votes}`;
    button.setAttribute("aria-label", `Upvote (${row.label})`);
    button.setAttribute("aria-pressed", String(row.upvoted));
    button.disabled = row.upvoted;
  });
  $("no-questions").hidden = rows.length > 0;
}

function newQuestion(questionId) {
  const item = document.createElement("li");
  item.dataset.question = questionId;
  const text = document.createElement("span");
  text.className = "question-text";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "upvote";
  button.addEventListener("click", () => upvote(questionId, button));
  item.append(button, text);
  return item;
}

function renderPoll() {
  const view = pollView(audience?.poll, mine.answers);
  $("poll").hidden = view === null;
  if (!view) return;
  const form = $("poll-form");
  if (form.dataset.poll !== view.id) {
    form.dataset.poll = view.id;
    say("poll-question", view.question);
    say("poll-note", "");
    form.querySelector(".poll-choices").replaceChildren(...view.options.map((option, index) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "option";
      input.value = String(index);
      input.required = true;
      label.append(input, ` ${option}`);
      return label;
    }));
  }
  form.hidden = !view.canAnswer;
  if (view.answered !== null) say("poll-note", `You answered: ${view.options[view.answered]}.`);
  else if (!view.canAnswer) say("poll-note", "This poll is closed.");
  const results = $("poll-results");
  results.hidden = view.results === null;
  results.replaceChildren(...(view.results || []).map((row) => {
    const item = document.createElement("li");
    item.dataset.mine = String(row.mine);
    const meter = document.createElement("meter");
    meter.min = 0;
    meter.max = 100;
    meter.value = row.percent;
    meter.setAttribute("aria-hidden", "true");
    const text = document.createElement("span");
    text.textContent = `${row.text}: ${row.percent} % (${row.count})`;
    item.append(text, meter);
    return item;
  }));
}

function render() {
  renderMine();
  renderQuestions();
  renderPoll();
}

async function upvote(questionId, button) {
  button.disabled = true;
  const shown = audience?.questions.find((question) => question.id === questionId)?.votes ?? 0;
  const answer = await post(urls.upvoteUrl.replace("QUESTION", encodeURIComponent(questionId)), {});
  if (answer.ok) {
    sentVotes[questionId] = shown;
    mine.upvoted = [...new Set([...mine.upvoted, questionId])];
    render();
    return;
  }
  button.disabled = false;
  say("audience-note", refusalText(answer.status, answer.body));
}

$("ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const problem = questionProblem(form.elements.text.value, form.elements.name.value, limits);
  if (problem) {
    say("ask-status", problem);
    return;
  }
  const text = form.elements.text.value;
  const name = form.elements.name.value;
  const clientId = askingId(pendingAsk, text, name, randomId);
  pendingAsk = { text: text.trim(), name: name.trim(), clientId };
  const button = form.querySelector("button");
  button.disabled = true;
  let answer;
  try {
    answer = await post(urls.askUrl, questionBody(text, name, clientId));
  } catch {
    answer = null; // no answer: it may have arrived; sending it again is safe (same client id)
  } finally {
    button.disabled = false;
  }
  if (!answer) {
    say("ask-status", "No answer from the server: press Ask again to send it once more.");
    return;
  }
  if (!answer.ok) {
    if (answer.status < 500) pendingAsk = null; // refused, so not made; a server error may have made it
    say("ask-status", refusalText(answer.status, answer.body));
    return;
  }
  pendingAsk = null;
  form.elements.text.value = "";
  say("ask-status", "Thank you: your question is with the moderators.");
  await refreshMine();
});

$("poll-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const choice = form.querySelector("input[name=option]:checked");
  if (!choice) return;
  const answer = await post(urls.answerUrl.replace("POLL", encodeURIComponent(form.dataset.poll)), { option: Number(choice.value) });
  if (answer.ok || answer.body?.error?.code === "already_voted") {
    mine.answers = { ...mine.answers, [form.dataset.poll]: Number(choice.value) };
    render();
    await refreshMine();
    return;
  }
  say("poll-note", refusalText(answer.status, answer.body));
});

async function refreshMine() {
  try {
    // Its answer may be older than the shared list's newest: a question let through there stays so.
    mine = mineWithPublicStatus(await getJson(urls.mineUrl), audience);
    render();
  } catch {
    // Kept as it was; the next action or refresh tries again.
  }
}

// Each list follows on its own timer, backing off while the server does not answer.
function follow(load, baseMs, due = () => true) {
  let failures = 0;
  async function step() {
    if (due()) {
      try {
        await load();
        failures = 0;
      } catch {
        failures += 1;
      }
    }
    setTimeout(step, nextDelay(baseMs, failures));
  }
  step();
}

if (urls.canAsk !== "true") {
  $("ask-form").hidden = true;
  say("audience-note", "Open the webcast with your personal join link to ask and vote.");
}
follow(async () => {
  audience = await getJson(urls.audienceUrl);
  mine = mineWithPublicStatus(mine, audience);
  render();
}, AUDIENCE_MS);
if (urls.canAsk === "true") {
  refreshMine();
  setTimeout(() => follow(refreshMine, MINE_MS, () => mineUnsettled(mine)), MINE_MS);
}
