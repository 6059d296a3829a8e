// Roadshow Q&A (docs/protocol.md, "Roadshow Q&A"): visitors ask and upvote questions in a
// roadshow's room; moderators and the booth's staff approve, reject and mark them answered.
// Questions wait for approval, seen by their author (from the reply) and by those who moderate.

import { useEffect, useState } from "preact/hooks";
import { html, ErrorBox } from "./components.js";
import { t, plural, formatTime } from "./i18n.js";
import { ws, user } from "./store.js";
import { loginHref } from "./router.js";
import { keepsRoom } from "./moderation.js";

const QUESTION_MAX = 500;
const MODERATOR_POLL_MS = 10_000; // pending questions reach moderators only through qa.list here

function byVotes(a, b) {
  if (a.status !== b.status && (a.status === "answered" || b.status === "answered")) {
    return a.status === "answered" ? 1 : -1; // answered ones last
  }
  return b.votes - a.votes || a.ts - b.ts;
}

/** Insert or update questions by id; a question's `voted` is ours, events always say false. */
function upsert(list, incoming, { keepVoted = true } = {}) {
  const byId = new Map(list.map((q) => [q.id, q]));
  for (const q of incoming) {
    const known = byId.get(q.id);
    byId.set(q.id, { ...known, ...q, voted: keepVoted && known ? known.voted : q.voted });
  }
  return [...byId.values()].filter((q) => q.status !== "rejected");
}

function Question({ q, canModerate, signedIn, onChange }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  async function run(action, data, apply) {
    setBusy(true);
    setError(null);
    try {
      apply(await ws.request(action, data));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const open = q.status === "approved" || q.status === "answered";
  return html`
    <li class="qa-item qa-${q.status}" data-testid="qa-question" data-id=${q.id} data-status=${q.status}>
      ${open &&
      html`<button
        type="button"
        class="qa-vote ${q.voted ? "is-voted" : ""}"
        aria-pressed=${q.voted ? "true" : "false"}
        aria-label=${plural("qa.vote_label", q.votes)}
        disabled=${busy || !signedIn}
        onClick=${() =>
          run("qa.vote", { question: q.id, up: !q.voted }, (r) =>
            onChange({ ...q, votes: r.votes, voted: !q.voted }, false))}
        data-testid="qa-vote"
      >
        <span aria-hidden="true">▲</span>
        <span data-testid="qa-votes">${q.votes}</span>
      </button>`}
      <div class="qa-main">
        <p class="qa-body" data-testid="qa-body">${q.body}</p>
        <p class="muted small">
          ${q.user?.name ?? ""} · ${formatTime(q.ts)}
          ${q.status === "answered" && html` · <span class="badge badge-answered">${t("qa.answered")}</span>`}
          ${q.status === "pending" && html` · <span class="badge">${t("qa.pending_badge")}</span>`}
        </p>
        ${canModerate &&
        html`<div class="mod-actions">
          ${q.status === "pending" &&
          html`<button
              type="button"
              class="button button-small"
              disabled=${busy}
              onClick=${() => run("qa.moderate", { question: q.id, status: "approved" }, (r) => onChange(r.question))}
              data-testid="qa-approve"
            >
              ${t("qa.approve")}
            </button>
            <button
              type="button"
              class="button button-small button-quiet"
              disabled=${busy}
              onClick=${() => run("qa.moderate", { question: q.id, status: "rejected" }, (r) => onChange(r.question))}
              data-testid="qa-reject"
            >
              ${t("qa.reject")}
            </button>`}
          ${q.status === "approved" &&
          html`<button
            type="button"
            class="button button-small button-quiet"
            disabled=${busy}
            onClick=${() => run("qa.moderate", { question: q.id, status: "answered" }, (r) => onChange(r.question))}
            data-testid="qa-answered"
          >
            ${t("qa.mark_answered")}
          </button>`}
        </div>`}
        ${error && html`<${ErrorBox} error=${error} onDismiss=${() => setError(null)} />`}
      </div>
    </li>
  `;
}

/** The Q&A of a roadshow room; `joined`: the room is joined (qa.* need that). */
export function QaPanel({ roomId, joined }) {
  const me = user.value;
  const [questions, setQuestions] = useState([]);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [sent, setSent] = useState(false);
  const canModerate = keepsRoom(roomId);
  const session = ws.session.value;

  useEffect(() => {
    if (!joined) return undefined;
    let active = true;
    const load = () =>
      ws.request("qa.list", { room: roomId }).then(
        (r) => active && setQuestions((list) => upsert(list.filter((q) => q.mine), r.questions, { keepVoted: false })),
        (err) => active && setError(err),
      );
    load();
    const off = ws.on("qa.question", (q) => {
      if (q.room === roomId) setQuestions((list) => upsert(list, [q]));
    });
    const timer = canModerate ? setInterval(load, MODERATOR_POLL_MS) : null;
    return () => {
      active = false;
      off();
      clearInterval(timer);
    };
  }, [roomId, joined, canModerate, session]);

  const update = (q, keepVoted = true) => setQuestions((list) => upsert(list, [q], { keepVoted }));

  async function ask(e) {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    setBusy(true);
    setError(null);
    setSent(false);
    try {
      const reply = await ws.request("qa.ask", { room: roomId, body });
      setText("");
      setSent(true);
      update({ ...reply.question, mine: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const open = questions.filter((q) => q.status === "approved" || q.status === "answered").sort(byVotes);
  const pending = questions
    .filter((q) => q.status === "pending" && (canModerate || q.mine))
    .sort((a, b) => a.ts - b.ts);

  return html`
    <section class="panel qa" aria-labelledby=${`qa-title-${roomId}`} data-testid="qa">
      <div class="panel-head">
        <h2 id=${`qa-title-${roomId}`}>${t("qa.title")}</h2>
        <span class="count-badge">${open.length}</span>
      </div>
      ${me
        ? html`<form class="qa-ask" onSubmit=${ask}>
            <label class="visually-hidden" for=${`qa-input-${roomId}`}>${t("qa.ask_label")}</label>
            <textarea
              id=${`qa-input-${roomId}`}
              rows="2"
              maxlength=${QUESTION_MAX}
              value=${text}
              placeholder=${t("qa.ask_placeholder")}
              onInput=${(e) => setText(e.currentTarget.value)}
              data-testid="qa-input"
            ></textarea>
            <button type="submit" class="button button-small" disabled=${busy || !joined || !text.trim()} data-testid="qa-ask">
              ${t("qa.ask")}
            </button>
          </form>`
        : html`<p class="composer-note">
            <a href=${loginHref()}>${t("qa.login")}</a>
          </p>`}
      ${sent && html`<p class="msg-note" role="status" data-testid="qa-sent">${t("qa.sent")}</p>`}
      ${error && html`<${ErrorBox} error=${error} onDismiss=${() => setError(null)} />`}
      ${pending.length > 0 &&
      html`<h3 class="qa-sub">${t(canModerate ? "qa.pending" : "qa.pending_mine", { n: pending.length })}</h3>
        <ul class="qa-list" data-testid="qa-pending">
          ${pending.map(
            (q) => html`<${Question} key=${q.id} q=${q} canModerate=${canModerate} signedIn=${Boolean(me)} onChange=${update} />`,
          )}
        </ul>`}
      ${open.length === 0
        ? html`<p class="muted small">${t("qa.empty")}</p>`
        : html`<ul class="qa-list" data-testid="qa-list">
            ${open.map(
              (q) => html`<${Question} key=${q.id} q=${q} canModerate=${canModerate} signedIn=${Boolean(me)} onChange=${update} />`,
            )}
          </ul>`}
    </section>
  `;
}
