// The polls: prepared in the console (a question and one option a line), opened one at a time,
// closed, their results shown to viewers or not; the counts arrive live through the stage (the
// system's recounts of the viewers' answers, `set_votes`).
import CONTRACT from "./contract.js";
import { $ } from "./console-ui.js";
import { bySerial, label } from "./stage-views.js";

const { min: MIN_OPTIONS, max: MAX_OPTIONS } = CONTRACT.limits.poll_options;

// The options typed in the form, one a line: trimmed, blank lines dropped.
export function parseOptions(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean);
}

// Why these options cannot make a poll, or null when they can.
export function optionsProblem(options) {
  if (options.length < MIN_OPTIONS || options.length > MAX_OPTIONS) return `A poll has ${MIN_OPTIONS} to ${MAX_OPTIONS} options, one a line.`;
  if (new Set(options).size !== options.length) return "Each option once.";
  const tooLong = options.find((option) => option.length > CONTRACT.limits.option);
  return tooLong ? `An option has at most ${CONTRACT.limits.option} characters.` : null;
}

// A poll's answers: each option's count and share of the total (whole percent).
export function pollResults(poll) {
  const total = poll.counts.reduce((sum, count) => sum + count, 0);
  const rows = poll.options.map((text, index) => {
    const count = poll.counts[index];
    return { text, count, percent: total ? Math.round((100 * count) / total) : 0 };
  });
  return { total, rows };
}

export function createPolls(page) {
  const form = $("add-poll");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const options = parseOptions(form.elements.options.value);
    const problem = optionsProblem(options);
    if (problem) {
      page.notify(problem);
      return;
    }
    page.send("add_poll", { question: form.elements.question.value.trim(), options });
    form.reset();
  });

  function render(state) {
    const list = $("polls");
    const ids = Object.keys(state.polls).sort(bySerial).reverse(); // the newest on top
    const keep = new Set(ids);
    for (const item of [...list.children]) if (!keep.has(item.dataset.poll)) item.remove();
    let previous = null;
    for (const pid of ids) {
      const item = list.querySelector(`[data-poll="${pid}"]`) || newItem(pid);
      if (previous ? previous.nextSibling !== item : list.firstChild !== item) {
        if (previous) previous.after(item);
        else list.prepend(item);
      }
      renderPoll(state, item, state.polls[pid]);
      previous = item;
    }
  }

  function renderPoll(state, item, poll) {
    item.dataset.status = poll.status;
    item.querySelector(".poll-question").textContent = poll.question;
    const { total, rows } = pollResults(poll);
    item.querySelector(".poll-status").textContent = `${label("poll_status", poll.status)} · ${total} answer${total === 1 ? "" : "s"}`;
    const options = item.querySelector(".poll-options");
    while (options.children.length > rows.length) options.lastChild.remove();
    rows.forEach((row, index) => {
      const line = options.children[index] || options.appendChild(newOption());
      line.querySelector(".poll-option-text").textContent = row.text;
      line.querySelector(".poll-count").textContent = `${row.count} (${row.percent} %)`;
      line.querySelector("meter").value = row.percent;
    });
    const ended = state.phase === "ended";
    const button = (action) => item.querySelector(`[data-action="${action}"]`);
    button("open").disabled = poll.status === "open" || ended;
    button("open").textContent = poll.status === "closed" ? "Reopen" : "Open";
    button("close").disabled = poll.status !== "open";
    button("results").disabled = poll.status === "draft";
    button("results").setAttribute("aria-pressed", String(poll.results_shown));
    button("results").textContent = poll.results_shown ? "Hide results" : "Show results";
    button("remove").hidden = poll.status !== "draft";
  }

  function newItem(pid) {
    const item = document.createElement("li");
    item.dataset.poll = pid;
    const question = document.createElement("span");
    question.className = "poll-question";
    const status = document.createElement("small");
    status.className = "poll-status";
    const options = document.createElement("ol");
    options.className = "poll-options";
    const actions = document.createElement("span");
    actions.className = "poll-actions";
    const current = () => page.state().polls[pid];
    const commands = {
      open: () => page.send("set_poll_status", { poll: pid, status: "open" }),
      close: () => page.send("set_poll_status", { poll: pid, status: "closed" }),
      results: () => page.send("show_poll_results", { poll: pid, shown: !current().results_shown }),
      remove: () => page.send("remove_poll", { poll: pid }),
    };
    for (const [action, send] of Object.entries(commands)) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.action = action;
      button.textContent = { open: "Open", close: "Close", results: "Show results", remove: "Remove" }[action];
      button.addEventListener("click", send);
      actions.append(button);
    }
    item.append(question, status, options, actions);
    return item;
  }

  function newOption() {
    const line = document.createElement("li");
    const text = document.createElement("span");
    text.className = "poll-option-text";
    const meter = document.createElement("meter");
    meter.min = 0;
    meter.max = 100;
    meter.setAttribute("aria-hidden", "true"); // the count beside it says the same in words
    const count = document.createElement("span");
    count.className = "poll-count";
    line.append(text, meter, count);
    return line;
  }

  return { render };
}
