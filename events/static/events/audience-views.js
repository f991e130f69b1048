// What the viewer's Q&A and poll panel shows, worked out from what the server sent
// (audience.json, mine.json): no DOM here, so node tests it (tests/js/webcast-audience.test.js).

// A question's status as the person who asked it reads it.
export const STATUS_TEXT = {
  pending: "waiting for the moderators",
  approved: "approved: visible to everyone",
  dismissed: "not selected",
  answered: "answered",
  on_screen: "on screen now",
};
// While one of the viewer's questions is in one of these, its status may still change: keep asking.
const UNSETTLED = new Set(["pending", "approved", "on_screen"]);

export function statusText(status) {
  return STATUS_TEXT[status] ?? status;
}

// Whether the viewer's own list needs refreshing now and then (a question may still move on).
export function mineUnsettled(mine) {
  return (mine?.questions || []).some((question) => UNSETTLED.has(question.status));
}

// The viewer's own list with what the shared one already shows: a question of theirs still
// pending there but let through here (approved, on screen or answered) takes its public status,
// so the viewer sees it at the shared list's next refresh, not at their own list's slower one.
// Only pending ones: the shared list may be a few seconds older than their own.
export function mineWithPublicStatus(mine, audience) {
  const shown = new Map((audience?.questions || []).map((question) => [question.id, question.status]));
  const questions = (mine?.questions || []).map((question) => (
    question.status === "pending" && shown.has(question.id) ? { ...question, status: shown.get(question.id) } : question
  ));
  return { ...mine, questions };
}

// Why a question cannot be sent as typed, or null. The server checks the same (and says so).
export function questionProblem(text, name, limits) {
  const trimmed = text.trim();
  if (!trimmed) return "Write your question first.";
  if (trimmed.length > limits.text) return `A question has at most ${limits.text} characters.`;
  if (name.trim().length > limits.name) return `A name has at most ${limits.name} characters.`;
  return null;
}

// The JSON body of a question: the name only when one was given, and its client id.
export function questionBody(text, name, clientId) {
  const body = { text: text.trim(), client_id: clientId };
  if (name.trim()) body.name = name.trim();
  return body;
}

// The client id to send a question with: the one it was sent with before when it is the same
// question sent again (its answer was lost), so the server makes it once; else a fresh one.
export function askingId(pending, text, name, fresh) {
  const same = pending && pending.text === text.trim() && pending.name === name.trim();
  return same ? pending.clientId : fresh();
}

// The audience's questions with what this viewer may do: upvote each once. `sent` holds the
// count each question showed when this viewer upvoted it here: until the shared list (cached,
// recounted every half second) catches up, the viewer's own vote is shown counted.
export function questionRows(audience, upvoted, sent = {}) {
  const mine = new Set(upvoted || []);
  return (audience?.questions || []).map((question) => {
    const votes = Object.hasOwn(sent, question.id) ? Math.max(question.votes, sent[question.id] + 1) : question.votes;
    return { ...question, votes, upvoted: mine.has(question.id), label: `${votes} upvote${votes === 1 ? "" : "s"}` };
  });
}

// The poll in play as this viewer sees it: whether they may answer, what they answered, and the
// results (each option's count and whole percent) once the producers show them.
export function pollView(poll, answers) {
  if (!poll) return null;
  const answered = answers && Object.hasOwn(answers, poll.id) ? answers[poll.id] : null;
  let results = null;
  if (poll.results) {
    const total = poll.results.reduce((sum, count) => sum + count, 0);
    results = poll.options.map((text, index) => ({
      text,
      count: poll.results[index],
      percent: total ? Math.round((100 * poll.results[index]) / total) : 0,
      mine: index === answered,
    }));
  }
  return { id: poll.id, question: poll.question, options: poll.options, answered, canAnswer: poll.status === "open" && answered === null, results };
}

// What to tell the viewer when the server refused: its own message, else a word for the status.
export function refusalText(status, body) {
  if (body?.error?.message) return body.error.message;
  if (status === 403) return "Open the webcast with your personal join link again.";
  if (status === 429) return "Too many at once: try again in a moment.";
  return "That did not work: please try again.";
}

// How long until the next poll of a list after `failures` failed ones in a row: the base period,
// doubled each failure up to eight times it, so an overloaded server is not hammered harder.
export function nextDelay(baseMs, failures) {
  return baseMs * 2 ** Math.min(failures, 3);
}
