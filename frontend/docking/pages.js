// Project docking in the browser: the project directory and pages, the investor profile,
// availability, meeting requests, "My meetings" (agenda, .ics, joining the call) and
// recommendations with their reasons (docs/docking.md).

import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { html, ErrorBox, Loading, NotFound, safeUrl } from "../components.js";
import { t, plural, countryName, errorText, formatDateTime } from "../i18n.js";
import { ws, user } from "../store.js";
import { loginHref, navigate } from "../router.js";
import { call, joinMeeting } from "../rtc.js";
import { CallView } from "../call.js";
import { dock } from "./api.js";

const STAGES = ["idea", "prototype", "first_revenue", "growth"];
const SEEKING = ["investment", "partners", "licensing", "talent"];

/** Bumped by every live meeting notice: lists that show meetings load again. */
const meetingsVersion = signal(0);
/** The meeting this browser waits in or talks in: {id, endsAt, waiting, peer}. */
const inMeeting = signal(null);

/** The latest live word about meetings, shown on "My meetings": {key, name}. */
const lastNews = signal(null);

const NEWS = { "meeting.requested": "dock.notice.meeting.requested",
  "meeting.accepted": "dock.notice.meeting.accepted", "meeting.reminder": "dock.notice.meeting.reminder" };

ws.on("recruit.notice", (notice) => {
  if (!String(notice.kind).startsWith("meeting.")) return;
  meetingsVersion.value += 1;
  if (NEWS[notice.kind] && notice.data?.by?.id !== user.value?.id) {
    lastNews.value = { key: NEWS[notice.kind], name: notice.data?.by?.name || "" };
  }
});
ws.on("meeting.waiting", (data) => {
  lastNews.value = { key: "dock.meetings.waiting_you", name: data.user.name };
});

function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let active = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => active && setState({ data, error: null, loading: false }),
      (error) => active && setState({ data: null, error, loading: false }),
    );
    return () => {
      active = false;
    };
  }, [...deps, attempt]);
  return { ...state, retry: () => setAttempt((n) => n + 1) };
}

function tags(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

function reasonText(reason) {
  return reason.parts
    .map((p) => {
      if (p.kind === "stage") return t(`dock.stage.${p.value}`);
      if (p.kind === "country") return countryName(p.value);
      return p.value;
    })
    .join(" · ");
}

// --- recommendations --------------------------------------------------------------------------

function RequestMeeting({ target, label }) {
  const [open, setOpen] = useState(false);
  const [message, setMessage] = useState("");
  const [state, setState] = useState({ error: null, sent: false, busy: false });
  if (!user.value) return html`<a class="button" href=${loginHref()}>${label || t("dock.request")}</a>`;
  if (state.sent) return html`<p class="muted" role="status" data-testid="request-sent">${t("dock.request.sent")}</p>`;
  if (!open) {
    return html`<button type="button" class="button" data-testid="request-meeting"
      onClick=${() => setOpen(true)}>${label || t("dock.request")}</button>`;
  }
  const send = async (ev) => {
    ev.preventDefault();
    setState({ error: null, sent: false, busy: true });
    try {
      await dock.request({ ...target, message });
      setState({ error: null, sent: true, busy: false });
    } catch (error) {
      setState({ error, sent: false, busy: false });
    }
  };
  return html`
    <form class="request-form" onSubmit=${send}>
      <label>${t("dock.request.message")}
        <textarea maxlength="500" data-testid="request-message" value=${message}
          onInput=${(e) => setMessage(e.target.value)}></textarea>
      </label>
      <button type="submit" class="button" data-testid="request-send" disabled=${state.busy}>
        ${t("dock.request.send")}</button>
      ${state.error && html`<${ErrorBox} error=${state.error} />`}
    </form>`;
}

function RecoItem({ item }) {
  const href = item.kind === "project" ? `/project/${item.id}` : null;
  const name = item.title || item.name;
  return html`
    <li class="reco-item" data-testid="reco-item" data-kind=${item.kind} data-id=${item.id}>
      <div>
        ${href ? html`<a href=${href} data-testid="reco-title">${name}</a>`
          : html`<strong data-testid="reco-title">${name}</strong>`}
        ${item.booth && html` <span class="muted">· ${item.booth.name}</span>`}
        <p class="muted small" data-testid="reco-reason">${t("dock.reco.why", { reason: reasonText(item.reason) })}</p>
      </div>
      ${item.kind === "project" && html`<${RequestMeeting} target=${{ project: item.id }} />`}
      ${item.kind === "investor" && html`<${RequestMeeting} target=${{ user: item.id }} />`}
      ${item.kind === "job" && html`<a class="button" href=${`/job/${item.id}`} data-reload>${t("dock.apply")}</a>`}
    </li>`;
}

function RecoList({ items, title, testid }) {
  if (!items?.length) return null;
  return html`
    <section class="panel reco" data-testid=${testid}>
      <h2>${title}</h2>
      <ul class="reco-list">${items.map((item) => html`<${RecoItem} key=${`${item.kind}${item.id}`} item=${item} />`)}</ul>
    </section>`;
}

/** The person's picks with their reasons (on the home page and the project directory). */
export function Recommendations() {
  const reco = useLoad(() => (user.value ? dock.recommendations() : Promise.resolve(null)), [user.value?.id]);
  if (!user.value || !reco.data) return null;
  const { projects, jobs, investors } = reco.data;
  const none = !projects.length && !jobs.length && !investors.some((g) => g.investors.length);
  if (none) return html`<p class="muted small" data-testid="reco-none">${t("dock.reco.none")}</p>`;
  return html`
    <${RecoList} items=${projects} title=${t("dock.reco.title")} testid="reco-projects" />
    <${RecoList} items=${jobs} title=${t("dock.reco.jobs")} testid="reco-jobs" />
    ${investors.map((group) => html`<${RecoList} items=${group.investors}
      title=${t("dock.reco.investors", { title: group.project.title })} testid="reco-investors" />`)}`;
}

/** The projects of a booth, on its page. */
export function BoothProjects({ booth }) {
  const list = useLoad(() => dock.projects({ booth: booth.id, limit: 50 }), [booth.id]);
  if (list.error || !list.data) return null;
  return html`
    <section class="panel booth-projects" aria-labelledby="booth-projects-title" data-testid="booth-projects">
      <h2 id="booth-projects-title">${t("dock.booth.projects")}</h2>
      ${list.data.results.length
        ? html`<ul class="project-list compact">${list.data.results.map((p) => html`<${ProjectCard} key=${p.id} p=${p} />`)}</ul>`
        : html`<p class="muted small">${t("dock.booth.no_projects")}</p>`}
    </section>`;
}

/** Candidates who opted in to talent search, recommended for a job (its booth's staff). */
export function JobCandidates({ job }) {
  const list = useLoad(() => dock.jobCandidates(job.id), [job.id]);
  if (list.error || !list.data) return null;
  return html`<${RecoList} items=${list.data.results} title=${t("dock.job.candidates")} testid="reco-candidates" />`;
}

// --- projects ---------------------------------------------------------------------------------

function Select({ label, value, options, prefix, onChange, testid }) {
  return html`<label>${label}
    <select value=${value} data-testid=${testid} onChange=${(e) => onChange(e.target.value)}>
      <option value="">${t("dock.filter.any")}</option>
      ${options.map((o) => html`<option value=${o}>${t(`${prefix}.${o}`)}</option>`)}
    </select></label>`;
}

function ProjectCard({ p }) {
  return html`
    <li class="project-card" data-testid="project-card">
      <a href=${`/project/${p.id}`}><strong>${p.title}</strong></a>
      <span class="muted"> · ${t(`dock.stage.${p.stage}`)}${p.country ? ` · ${countryName(p.country)}` : ""}</span>
      ${p.summary && html`<p>${p.summary}</p>`}
      <div class="tags">${p.fields.map((f) => html`<span class="tag">${f}</span>`)}</div>
    </li>`;
}

function ProjectsPage() {
  const [filters, setFilters] = useState({ q: "", field: "", stage: "", seeking: "", country: "" });
  const list = useLoad(() => dock.projects(filters), [JSON.stringify(filters)]);
  const set = (key) => (value) => setFilters({ ...filters, [key]: value });
  return html`
    <div class="docking">
      <h1>${t("dock.projects.title")}</h1>
      <p>
        ${user.value && html`<a class="button" href="/projects/new" data-testid="new-project">${t("dock.projects.new")}</a> `}
        ${user.value && html`<a href="/investor">${t("dock.investor.title")}</a> · `}
        ${user.value && html`<a href="/meetings">${t("dock.meetings.title")}</a>`}
      </p>
      <${Recommendations} />
      <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
        <label>${t("dock.filter.q")}<input type="search" value=${filters.q} onInput=${(e) => set("q")(e.target.value)} /></label>
        <label>${t("dock.filter.field")}<input value=${filters.field} data-testid="filter-field" onChange=${(e) => set("field")(e.target.value.trim().toLowerCase())} /></label>
        <${Select} label=${t("dock.filter.stage")} value=${filters.stage} options=${STAGES} prefix="dock.stage" onChange=${set("stage")} testid="filter-stage" />
        <${Select} label=${t("dock.filter.seeking")} value=${filters.seeking} options=${SEEKING} prefix="dock.seeking" onChange=${set("seeking")} testid="filter-seeking" />
        <label>${t("dock.filter.country")}<input maxlength="2" size="3" value=${filters.country} onChange=${(e) => set("country")(e.target.value.trim())} /></label>
      </form>
      ${list.error ? html`<${ErrorBox} error=${list.error} onRetry=${list.retry} />`
        : !list.data ? html`<${Loading} />`
        : list.data.results.length === 0 ? html`<p class="muted">${t("dock.projects.none")}</p>`
        : html`<p class="muted small">${plural("dock.projects.count", list.data.total)}</p>
          <ul class="project-list" data-testid="project-list">${list.data.results.map((p) => html`<${ProjectCard} key=${p.id} p=${p} />`)}</ul>`}
    </div>`;
}

function Field({ label, children }) {
  return html`<label class="field">${label}${children}</label>`;
}

function ProjectForm({ project, onSaved }) {
  const me = user.value;
  const [v, setV] = useState(() => ({
    title: project?.title || "", summary: project?.summary || "",
    description: project?.description || "", fields: (project?.fields || []).join(", "),
    stage: project?.stage || "idea", seeking: project?.seeking || ["investment"],
    amount_min: project?.amount_min ?? "", amount_max: project?.amount_max ?? "",
    currency: project?.currency || "", country: project?.country || "",
    booth: project ? project.booth?.id ?? "" : me?.staff_of?.[0] ?? "",
  }));
  const [state, setState] = useState({ error: null, saved: false });
  const set = (key) => (e) => setV({ ...v, [key]: e.target.value });
  const toggle = (s) => setV({ ...v, seeking: v.seeking.includes(s) ? v.seeking.filter((x) => x !== s) : [...v.seeking, s] });
  const submit = async (ev) => {
    ev.preventDefault();
    const num = (x) => (x === "" ? null : Number(x));
    const data = { title: v.title, summary: v.summary, description: v.description,
      fields: tags(v.fields), stage: v.stage, seeking: v.seeking, amount_min: num(v.amount_min),
      amount_max: num(v.amount_max), currency: v.currency, country: v.country,
      booth: v.booth === "" ? null : Number(v.booth) };
    try {
      const saved = project ? await dock.saveProject(project.id, data) : await dock.createProject(data);
      setState({ error: null, saved: true });
      onSaved?.(saved);
    } catch (error) {
      setState({ error, saved: false });
    }
  };
  return html`
    <form class="panel form" onSubmit=${submit} data-testid="project-form">
      <${Field} label=${t("dock.project.title")}><input required maxlength="200" value=${v.title} onInput=${set("title")} data-testid="project-title-input" /></${Field}>
      <${Field} label=${t("dock.project.summary")}><input maxlength="500" value=${v.summary} onInput=${set("summary")} /></${Field}>
      <${Field} label=${t("dock.project.description")}><textarea value=${v.description} onInput=${set("description")}></textarea></${Field}>
      <${Field} label=${t("dock.project.fields")}><input value=${v.fields} onInput=${set("fields")} /></${Field}>
      <${Field} label=${t("dock.filter.stage")}>
        <select value=${v.stage} onChange=${set("stage")}>${STAGES.map((s) => html`<option value=${s}>${t(`dock.stage.${s}`)}</option>`)}</select>
      </${Field}>
      <fieldset><legend>${t("dock.filter.seeking")}</legend>
        ${SEEKING.map((s) => html`<label class="check"><input type="checkbox" checked=${v.seeking.includes(s)} onChange=${() => toggle(s)} /> ${t(`dock.seeking.${s}`)}</label>`)}
      </fieldset>
      <${Field} label=${t("dock.project.amount_min")}><input type="number" min="0" value=${v.amount_min} onInput=${set("amount_min")} /></${Field}>
      <${Field} label=${t("dock.project.amount_max")}><input type="number" min="0" value=${v.amount_max} onInput=${set("amount_max")} /></${Field}>
      <${Field} label=${t("dock.project.currency")}><input maxlength="3" size="4" value=${v.currency} onInput=${set("currency")} /></${Field}>
      <${Field} label=${t("dock.project.country")}><input maxlength="2" size="3" value=${v.country} onInput=${set("country")} /></${Field}>
      ${!project && me?.staff_of?.length > 0 && html`<${Field} label=${t("dock.project.booth")}>
        <select value=${v.booth} onChange=${set("booth")}>
          <option value="">${t("dock.project.myself")}</option>
          ${me.staff_of.map((b) => html`<option value=${b}>${t("dock.project.for_booth")} (${b})</option>`)}
        </select></${Field}>`}
      <button type="submit" class="button" data-testid="project-save">${t("dock.save")}</button>
      ${state.saved && html`<span role="status">${t("dock.saved")}</span>`}
      ${state.error && html`<${ErrorBox} error=${state.error} />`}
    </form>`;
}

function ProjectPage({ id }) {
  const [version, setVersion] = useState(0);
  const project = useLoad(() => dock.project(id), [id, version]);
  const investors = useLoad(
    () => (project.data?.mine ? dock.projectInvestors(id) : Promise.resolve(null)),
    [id, project.data?.mine],
  );
  const [editing, setEditing] = useState(false);
  if (project.error?.status === 404) return html`<${NotFound} />`;
  if (project.error) return html`<${ErrorBox} error=${project.error} onRetry=${project.retry} />`;
  if (!project.data) return html`<${Loading} />`;
  const p = project.data;
  const links = (p.links || []).map((l) => ({ label: l.label, url: safeUrl(l.url) })).filter((l) => l.url);
  return html`
    <div class="docking">
      <section class="panel">
        <h1 data-testid="project-title">${p.title}</h1>
        ${p.summary && html`<p class="lead">${p.summary}</p>`}
        <dl class="facts">
          <div><dt>${t("dock.filter.stage")}</dt><dd>${t(`dock.stage.${p.stage}`)}</dd></div>
          ${p.country && html`<div><dt>${t("dock.filter.country")}</dt><dd>${countryName(p.country)}</dd></div>`}
          ${p.seeking.length > 0 && html`<div><dt>${t("dock.filter.seeking")}</dt><dd>${p.seeking.map((s) => t(`dock.seeking.${s}`)).join(", ")}</dd></div>`}
          ${(p.amount_min || p.amount_max) && html`<div><dt>${t("dock.project.amount")}</dt><dd>${p.amount_min ?? "…"}–${p.amount_max ?? "…"} ${p.currency}</dd></div>`}
          ${p.booth && html`<div><dt>${t("dock.project.booth")}</dt><dd><a href=${`/booth/${p.booth.id}`}>${p.booth.name}</a></dd></div>`}
          ${p.owner && html`<div><dt>${t("dock.project.owner")}</dt><dd>${p.owner.name}</dd></div>`}
        </dl>
        <div class="tags">${p.fields.map((f) => html`<span class="tag">${f}</span>`)}</div>
        ${p.description && html`<p class="description">${p.description}</p>`}
        ${links.length > 0 && html`<ul class="links">${links.map((l) => html`<li><a href=${l.url} target="_blank" rel="noopener noreferrer">${l.label}</a></li>`)}</ul>`}
        ${!p.mine && html`<${RequestMeeting} target=${{ project: p.id }} />`}
        ${p.mine && html`<button type="button" class="button button-quiet" onClick=${() => setEditing(!editing)}>${t("dock.project.edit")}</button>`}
      </section>
      ${editing && html`<${ProjectForm} project=${p} onSaved=${() => { setEditing(false); setVersion(version + 1); }} />`}
      ${investors.data && html`<${RecoList} items=${investors.data.results}
        title=${t("dock.reco.investors", { title: p.title })} testid="reco-investors" />`}
    </div>`;
}

function NewProjectPage() {
  if (!user.value) return html`<p><a href=${loginHref()}>${t("user.login")}</a></p>`;
  return html`<div class="docking"><h1>${t("dock.projects.new")}</h1>
    <${ProjectForm} onSaved=${(p) => navigate(`/project/${p.id}`)} /></div>`;
}

// --- investor profile -------------------------------------------------------------------------

function InvestorPage() {
  const profile = useLoad(() => dock.investor().catch((e) => (e.status === 404 ? {} : Promise.reject(e))), []);
  const [state, setState] = useState({ error: null, saved: false });
  if (!user.value) return html`<p><a href=${loginHref()}>${t("user.login")}</a></p>`;
  if (profile.error) return html`<${ErrorBox} error=${profile.error} onRetry=${profile.retry} />`;
  if (!profile.data) return html`<${Loading} />`;
  const d = profile.data;
  const submit = async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const num = (x) => (x === "" ? null : Number(x));
    try {
      await dock.saveInvestor({ ticket_min: num(f.get("ticket_min")), ticket_max: num(f.get("ticket_max")),
        currency: f.get("currency"), stages: f.getAll("stages"), fields: tags(f.get("fields")),
        countries: tags(f.get("countries")), thesis: f.get("thesis"), active: f.get("active") === "on" });
      setState({ error: null, saved: true });
    } catch (error) {
      setState({ error, saved: false });
    }
  };
  return html`
    <div class="docking"><h1>${t("dock.investor.title")}</h1>
      <form class="panel form" onSubmit=${submit} data-testid="investor-form">
        <${Field} label=${t("dock.investor.ticket_min")}><input name="ticket_min" type="number" min="0" value=${d.ticket_min ?? ""} /></${Field}>
        <${Field} label=${t("dock.investor.ticket_max")}><input name="ticket_max" type="number" min="0" value=${d.ticket_max ?? ""} /></${Field}>
        <${Field} label=${t("dock.project.currency")}><input name="currency" maxlength="3" value=${d.currency || ""} /></${Field}>
        <fieldset><legend>${t("dock.investor.stages")}</legend>
          ${STAGES.map((s) => html`<label class="check"><input type="checkbox" name="stages" value=${s} checked=${(d.stages || []).includes(s)} /> ${t(`dock.stage.${s}`)}</label>`)}
        </fieldset>
        <${Field} label=${t("dock.investor.fields")}><input name="fields" value=${(d.fields || []).join(", ")} /></${Field}>
        <${Field} label=${t("dock.investor.countries")}><input name="countries" value=${(d.countries || []).join(", ")} /></${Field}>
        <${Field} label=${t("dock.investor.thesis")}><textarea name="thesis">${d.thesis || ""}</textarea></${Field}>
        <label class="check"><input type="checkbox" name="active" checked=${d.active ?? true} /> ${t("dock.investor.active")}</label>
        <button type="submit" class="button">${t("dock.save")}</button>
        ${state.saved && html`<span role="status">${t("dock.saved")}</span>`}
        ${state.error && html`<${ErrorBox} error=${state.error} />`}
      </form>
    </div>`;
}

// --- availability -----------------------------------------------------------------------------

function AvailabilityEditor() {
  const list = useLoad(() => dock.availability(), []);
  const [error, setError] = useState(null);
  const add = async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const day = f.get("day");
    // The browser's local time, sent with its offset (Date → ISO in UTC).
    const at = (time) => new Date(`${day}T${time}`).toISOString();
    try {
      await dock.addAvailability({ starts_at: at(f.get("from")), ends_at: at(f.get("to")),
        slot_minutes: Number(f.get("slot")) });
      setError(null);
      list.retry();
    } catch (err) {
      setError(err);
    }
  };
  const remove = async (id) => {
    await dock.removeAvailability(id).catch(setError);
    list.retry();
  };
  return html`
    <section class="panel" data-testid="availability">
      <h2>${t("dock.avail.title")}</h2>
      ${list.data?.results.length === 0 && html`<p class="muted">${t("dock.avail.none")}</p>`}
      <ul>${(list.data?.results || []).map((a) => html`<li key=${a.id}>
        ${formatDateTime(a.starts_at)} – ${formatDateTime(a.ends_at)} (${a.slot_minutes} min)
        <button type="button" class="button button-quiet" onClick=${() => remove(a.id)}>${t("dock.avail.remove")}</button></li>`)}</ul>
      <form class="form inline" onSubmit=${add}>
        <${Field} label=${t("dock.avail.day")}><input type="date" name="day" required /></${Field}>
        <${Field} label=${t("dock.avail.from")}><input type="time" name="from" step="300" required /></${Field}>
        <${Field} label=${t("dock.avail.to")}><input type="time" name="to" step="300" required /></${Field}>
        <${Field} label=${t("dock.avail.slot")}><input type="number" name="slot" min="10" max="120" step="5" value="30" /></${Field}>
        <button type="submit" class="button">${t("dock.avail.add")}</button>
      </form>
      ${error && html`<${ErrorBox} error=${error} />`}
    </section>`;
}

// --- meetings ---------------------------------------------------------------------------------

/** Accept (a free slot of both, or the proposed one), propose another time, or decline: the
 * docking page's and the exhibitor console's inbox answer. */
export function Answer({ m, onDone }) {
  const slots = useLoad(() => (m.state === "requested" ? dock.slots(m.id) : Promise.resolve({ results: [] })), [m.id, m.state]);
  const [pick, setPick] = useState("");
  const [other, setOther] = useState("");
  const [error, setError] = useState(null);
  const run = (fn) => fn().then(() => { setError(null); onDone(); }, setError);
  const choices = slots.data?.results || [];
  const chosen = pick || choices[0]?.starts_at || "";
  return html`
    <div class="answer" data-testid="meeting-answer">
      ${m.state === "requested" && (choices.length > 0
        ? html`<label>${t("dock.meetings.pick")}
            <select data-testid="slot-select" value=${chosen} onChange=${(e) => setPick(e.target.value)}>
              ${choices.map((s) => html`<option value=${s.starts_at}>${formatDateTime(s.starts_at)}</option>`)}
            </select></label>
          <button type="button" class="button" data-testid="meeting-accept"
            onClick=${() => run(() => dock.accept(m.id, { starts_at: chosen,
              minutes: Math.round((new Date(choices.find((s) => s.starts_at === chosen).ends_at) - new Date(chosen)) / 60000) }))}>
            ${t("dock.meetings.accept")}</button>`
        : html`<p class="muted small">${t("dock.meetings.no_slots")}</p>`)}
      ${m.state === "proposed" && html`<button type="button" class="button" data-testid="meeting-accept"
        onClick=${() => run(() => dock.accept(m.id))}>${t("dock.meetings.accept")} (${formatDateTime(m.starts_at)})</button>`}
      <label>${t("dock.meetings.propose_at")}
        <input type="datetime-local" step="300" value=${other} onInput=${(e) => setOther(e.target.value)} /></label>
      <button type="button" class="button button-quiet" disabled=${!other}
        onClick=${() => run(() => dock.propose(m.id, { starts_at: new Date(other).toISOString(), minutes: 30 }))}>
        ${t("dock.meetings.propose")}</button>
      <button type="button" class="button button-quiet" data-testid="meeting-decline"
        onClick=${() => run(() => dock.decline(m.id))}>${t("dock.meetings.decline")}</button>
      ${error && html`<${ErrorBox} error=${error} />`}
    </div>`;
}

function TimeLeft({ endsAt }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const minutes = Math.max(0, Math.ceil((endsAt - now) / 60000));
  return html`<span class="time-left" data-testid="time-left" role="timer">${t("dock.meetings.left", { minutes })}</span>`;
}

async function join(m) {
  const reply = await joinMeeting(m.id);
  const other = m.requester.id === user.value?.id ? m.recipient : m.requester;
  inMeeting.value = { id: m.id, endsAt: Date.now() + reply.left * 1000, waiting: reply.waiting, peer: other };
}

function MeetingCall() {
  const current = inMeeting.value;
  const c = call.value;
  if (!current) return null;
  const mine = c && String(c.id).startsWith(`mt${current.id}-`);
  return html`
    <section class="panel meeting-call" data-testid="meeting-call">
      <p><${TimeLeft} endsAt=${current.endsAt} /></p>
      ${mine ? html`<${CallView} c=${c} />`
        : html`<p role="status" data-testid="meeting-waiting">${t("dock.meetings.waiting", { name: current.peer?.name || "" })}</p>`}
    </section>`;
}

function MeetingItem({ m, onChange }) {
  const me = user.value?.id;
  const other = m.requester.id === me ? m.recipient : m.requester;
  const [error, setError] = useState(null);
  return html`
    <li class="meeting" data-testid="meeting" data-id=${m.id} data-state=${m.state}>
      <strong>${other ? t("dock.meetings.with", { name: other.name }) : ""}</strong>
      ${m.project && html` · <a href=${`/project/${m.project.id}`}>${t("dock.meetings.about", { title: m.project.title })}</a>`}
      <span class="badge" data-testid="meeting-state"> ${t(`dock.state.${m.state}`)}</span>
      ${m.starts_at && html` · <time datetime=${m.starts_at}>${formatDateTime(m.starts_at)}</time>`}
      ${m.message && html`<p class="message">${m.message}</p>`}
      ${m.may_answer && html`<${Answer} m=${m} onDone=${onChange} />`}
      ${m.state === "accepted" && html`<button type="button" class="button" data-testid="meeting-join"
        onClick=${() => join(m).catch(setError)}>${t("dock.meetings.join")}</button>`}
      ${["requested", "proposed", "accepted"].includes(m.state) && html`<button type="button" class="button button-quiet"
        onClick=${() => dock.cancel(m.id).then(onChange, setError)}>${t("dock.meetings.cancel")}</button>`}
      ${error && html`<p class="error" role="alert">${errorText(error)}</p>`}
    </li>`;
}

function MeetingsPage() {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const version = meetingsVersion.value;
  const list = useLoad(() => dock.meetings(), [version]);
  const agenda = useLoad(() => dock.agenda(zone), [version]);
  if (!user.value) return html`<p><a href=${loginHref()}>${t("user.login")}</a></p>`;
  const reload = () => {
    meetingsVersion.value += 1;
  };
  return html`
    <div class="docking" data-testid="meetings-page">
      <h1>${t("dock.meetings.title")}</h1>
      ${lastNews.value && html`<p class="notice" role="status" data-testid="meeting-news">
        ${t(lastNews.value.key, { name: lastNews.value.name })}</p>`}
      <${MeetingCall} />
      <section class="panel">
        <h2>${t("dock.meetings.requests")}</h2>
        ${list.error && html`<${ErrorBox} error=${list.error} onRetry=${list.retry} />`}
        ${list.data && (list.data.results.length === 0
          ? html`<p class="muted">${t("dock.meetings.none")}</p>`
          : html`<ul class="meetings" data-testid="meeting-list">${list.data.results.map((m) => html`<${MeetingItem} key=${m.id} m=${m} onChange=${reload} />`)}</ul>`)}
      </section>
      <section class="panel" data-testid="agenda">
        <h2>${t("dock.meetings.agenda", { zone })}</h2>
        <p><a href="/api/agenda.ics" download="my-meetings.ics" data-testid="agenda-ics">${t("dock.meetings.ics")}</a></p>
        ${agenda.data && (agenda.data.items.length === 0
          ? html`<p class="muted">${t("dock.meetings.agenda_none")}</p>`
          : html`<ol class="agenda">${agenda.data.items.map((i) => html`<li data-testid="agenda-item" data-kind=${i.kind}>
              <time datetime=${i.starts_at}>${formatDateTime(i.starts_at)}</time> · ${t(`dock.kind.${i.kind}`)} · ${i.title}</li>`)}</ol>`)}
      </section>
      <${AvailabilityEditor} />
    </div>`;
}

export function DockingPage({ route }) {
  switch (route.name) {
    case "projects":
      return html`<${ProjectsPage} />`;
    case "project_new":
      return html`<${NewProjectPage} />`;
    case "project":
      return html`<${ProjectPage} key=${route.id} id=${route.id} />`;
    case "investor":
      return html`<${InvestorPage} />`;
    case "meetings":
      return html`<${MeetingsPage} />`;
    default:
      return html`<${NotFound} />`;
  }
}
