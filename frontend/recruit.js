// Online recruitment (docs/recruitment.md): sign-up, profile and résumé, the jobs directory and
// job pages, "My applications", and the booth staff's recruiting page (applications live with
// their unread count, jobs and CSV import, interview slots, interview calls).
//
// Data comes over HTTP (api.js, recruitApi); what changes live arrives as notices
// (recruit-store.js), on which the pages reload what they show. Every text from the server
// (cover notes, descriptions, names) is rendered as a text node, never as HTML.

import { useEffect, useState, useCallback } from "preact/hooks";
import { html, ErrorBox, Loading } from "./components.js";
import { t, plural, lang, localName, countryName, formatDateTime } from "./i18n.js";
import { recruitApi } from "./api.js";
import { user, setUser, staffsBooth } from "./store.js";
import { navigate, loginHref } from "./router.js";
import { onNotice, unread, boothUnread, markRead, peerWaiting } from "./recruit-store.js";
import { call, interview, joinInterview } from "./rtc.js";
import { CallView } from "./call.js";
import { JobCandidates } from "./docking/pages.js"; // project docking: recommended candidates

export const JOB_TYPES = ["full_time", "part_time", "internship", "postdoc", "visiting_scholar",
  "contract", "other"];
const STAFF_MOVES = ["shortlisted", "interview", "offer", "rejected"];
const BOOTH_KINDS = ["company", "university", "investor", "institute"];

// --- small helpers --------------------------------------------------------------------------

/** Load `fn()` now and whenever `deps` change; `reload()` loads again. */
function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const reload = useCallback(async () => {
    try {
      const data = await fn();
      setState({ data, error: null, loading: false });
    } catch (error) {
      setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    setState({ data: null, error: null, loading: true });
    reload();
  }, [reload]);
  return { ...state, reload };
}

/** Reload when a notice arrives (live changes). */
function useNotices(reload, match = () => true) {
  useEffect(() => onNotice((n) => match(n) && reload()), [reload]);
}

function useTitle(key) {
  useEffect(() => {
    document.title = t(key);
  }, [lang.value]);
}

const splitList = (text) => text.split(/[,;，；]/).map((s) => s.trim()).filter(Boolean);
const joinList = (list) => (list || []).join(", ");

function StatusBadge({ status }) {
  return html`<span class="badge badge-status badge-${status}" data-testid="app-status"
    data-status=${status}>${t(`recruit.status.${status}`)}</span>`;
}

function NeedLogin() {
  return html`<p class="notice">${t("recruit.need_login")}
    <a class="button button-small" href=${loginHref()}>${t("user.login")}</a>
    <a class="button button-small button-quiet" href="/signup">${t("recruit.signup")}</a></p>`;
}

function TextField({ label, value, onInput, testid, type = "text", ...rest }) {
  return html`<label class="field">
    <span class="field-label">${label}</span>
    <input type=${type} value=${value} onInput=${(e) => onInput(e.currentTarget.value)}
      data-testid=${testid} ...${rest} />
  </label>`;
}

function AreaField({ label, value, onInput, testid, rows = 4, ...rest }) {
  return html`<label class="field">
    <span class="field-label">${label}</span>
    <textarea rows=${rows} value=${value} onInput=${(e) => onInput(e.currentTarget.value)}
      data-testid=${testid} ...${rest}></textarea>
  </label>`;
}

function CheckField({ label, checked, onChange, testid }) {
  return html`<label class="check">
    <input type="checkbox" checked=${checked} onChange=${(e) => onChange(e.currentTarget.checked)}
      data-testid=${testid} />
    <span>${label}</span>
  </label>`;
}

function Saved({ shown }) {
  return shown ? html`<span class="saved" role="status" data-testid="saved">${t("recruit.saved")}</span>` : null;
}

// --- sign-up ------------------------------------------------------------------------------------

export function SignupPage() {
  useTitle("recruit.signup_title");
  const me = user.value;
  const guest = me?.kind === "guest";
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState(guest ? me.name : "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (me === undefined) return html`<${Loading} />`;
  if (me && !guest) {
    return html`<div class="narrow"><h1>${t("recruit.signup_title")}</h1>
      <p>${t("login.already", { name: me.name })} <a href="/profile">${t("recruit.profile")}</a></p></div>`;
  }
  async function submit(ev) {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { username: username.trim(), password, display_name: name.trim() };
      const data = guest ? await recruitApi.upgrade(body) : await recruitApi.signup(body);
      setUser(data.user);
      navigate("/profile");
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return html`<div class="narrow">
    <h1>${guest ? t("recruit.upgrade_title") : t("recruit.signup_title")}</h1>
    <p class="muted">${guest ? t("recruit.upgrade_intro") : t("recruit.signup_intro")}</p>
    <form class="panel form-card" onSubmit=${submit} data-testid="signup-form">
      <${TextField} label=${t("recruit.username")} value=${username} onInput=${setUsername}
        testid="signup-username" autocomplete="username" required maxlength="150" />
      <${TextField} label=${t("login.password")} type="password" value=${password}
        onInput=${setPassword} testid="signup-password" autocomplete="new-password" required />
      <p class="muted small">${t("recruit.password_hint")}</p>
      <${TextField} label=${t("recruit.display_name")} value=${name} onInput=${setName}
        testid="signup-name" required maxlength="80" />
      <${ErrorBox} error=${error} />
      ${error?.code === "account.weak_password" &&
      html`<p class="muted small" data-testid="signup-problem">${error.message}</p>`}
      <button type="submit" class="button" disabled=${busy} data-testid="signup-submit">
        ${busy ? t("login.working") : guest ? t("recruit.upgrade") : t("recruit.signup")}
      </button>
    </form>
  </div>`;
}

// --- profile and résumé -------------------------------------------------------------------------

/**
 * The state of an editing form: ``form`` (made from the loaded ``data`` by ``toForm``; null
 * until then), ``set(key)`` (an input handler; a change hides "Saved"), ``save(ev)`` (submits
 * through ``submit(form)``, then shows "Saved"), ``run(action)`` (any other request of the
 * form: its error shows where the save's would) and ``saved`` / ``saveError``.
 */
function useForm(data, toForm, submit) {
  const [form, setForm] = useState(null);
  const [saved, setSaved] = useState(false);
  const [saveError, setSaveError] = useState(null);
  useEffect(() => {
    const next = toForm(data);
    if (next) setForm(next);
  }, [data]);
  const set = (key) => (value) => {
    setSaved(false);
    setForm({ ...form, [key]: value });
  };
  async function run(action) {
    setSaveError(null);
    try {
      await action();
      return true;
    } catch (err) {
      setSaveError(err);
      return false;
    }
  }
  async function save(ev) {
    ev.preventDefault();
    if (await run(() => submit(form))) setSaved(true);
  }
  return { form, set, save, run, saved, saveError };
}

function ProfileForm() {
  const { data, error, loading } = useLoad(() => recruitApi.profile(), []);
  const { form, set, save, saved, saveError } = useForm(
    data,
    (d) => d && { ...d, languages: joinList(d.languages), interests: joinList(d.interests) },
    (f) => recruitApi.saveProfile({
      display_name: f.display_name, organisation: f.organisation, country: f.country,
      languages: splitList(f.languages), headline: f.headline,
      interests: splitList(f.interests), visible_to_booth_staff: f.visible_to_booth_staff,
      talent_search: f.talent_search,
    }));
  if (loading) return html`<${Loading} />`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!form) return null;
  return html`<form class="panel" onSubmit=${save} aria-labelledby="profile-title" data-testid="profile-form">
    <h2 id="profile-title">${t("recruit.profile")}</h2>
    <div class="form-grid">
      <${TextField} label=${t("recruit.display_name")} value=${form.display_name}
        onInput=${set("display_name")} testid="profile-name" required maxlength="80" />
      <${TextField} label=${t("recruit.organisation")} value=${form.organisation}
        onInput=${set("organisation")} testid="profile-organisation" maxlength="120" />
      <${TextField} label=${t("recruit.country")} value=${form.country} onInput=${set("country")}
        testid="profile-country" maxlength="2" placeholder="DE" />
      <${TextField} label=${t("recruit.languages")} value=${form.languages}
        onInput=${set("languages")} testid="profile-languages" placeholder="en, zh" />
      <${TextField} label=${t("recruit.headline")} value=${form.headline}
        onInput=${set("headline")} testid="profile-headline" maxlength="200" />
      <${TextField} label=${t("recruit.interests")} value=${form.interests}
        onInput=${set("interests")} testid="profile-interests" />
    </div>
    <fieldset class="fieldset">
      <legend>${t("recruit.privacy")}</legend>
      <${CheckField} label=${t("recruit.visible_to_booth_staff")} checked=${form.visible_to_booth_staff}
        onChange=${set("visible_to_booth_staff")} testid="profile-visible" />
      <${CheckField} label=${t("recruit.talent_search")} checked=${form.talent_search}
        onChange=${set("talent_search")} testid="profile-talent" />
    </fieldset>
    <${ErrorBox} error=${saveError} />
    <button type="submit" class="button" data-testid="profile-save">${t("recruit.save")}</button>
    <${Saved} shown=${saved} />
  </form>`;
}

const EMPTY_RESUME = { summary: "", education: [], experience: [], skills: [], languages: [],
  job_types: [], places: [] };

function Rows({ title, rows, fields, onChange, testid, blank }) {
  const update = (i, key, value) =>
    onChange(rows.map((row, j) => (j === i ? { ...row, [key]: value } : row)));
  return html`<fieldset class="fieldset" data-testid=${testid}>
    <legend>${title}</legend>
    ${rows.map((row, i) => html`<div class="row-editor" key=${i}>
      ${fields.map(([key, label, extra]) => html`<${TextField} key=${key} label=${label}
        value=${row[key] || ""} onInput=${(v) => update(i, key, v)}
        testid=${`${testid}-${key}-${i}`} ...${extra || {}} />`)}
      <button type="button" class="button button-small button-quiet"
        onClick=${() => onChange(rows.filter((_, j) => j !== i))}>${t("recruit.remove")}</button>
    </div>`)}
    <button type="button" class="button button-small button-secondary" data-testid=${`${testid}-add`}
      onClick=${() => onChange([...rows, { ...blank }])}>${t("recruit.add")}</button>
  </fieldset>`;
}

/** Drop empty optional cells, so that the server's YYYY(-MM) check only sees what was typed. */
function cleanRows(rows, required) {
  return rows
    .filter((row) => (row[required] || "").trim())
    .map((row) => Object.fromEntries(Object.entries(row).filter(([, v]) => (v || "").trim() !== "")));
}

function ResumeEditor() {
  const { data, error, loading, reload } = useLoad(
    () => recruitApi.resume().catch((err) => (err.status === 404 ? null : Promise.reject(err))), []);
  const [file, setFile] = useState(null);
  const { form, set, save, run: request, saved, saveError } = useForm(
    data,
    (loaded) => {
      const d = { ...EMPTY_RESUME, ...(loaded?.data || {}) };
      return { ...d, skills: joinList(d.skills), places: joinList(d.places) };
    },
    async (f) => {
      await recruitApi.saveResume({
        summary: f.summary, education: cleanRows(f.education, "school"),
        experience: cleanRows(f.experience, "employer"), skills: splitList(f.skills),
        languages: cleanRows(f.languages, "language"), job_types: f.job_types,
        places: splitList(f.places),
      });
      reload();
    });
  if (loading) return html`<${Loading} />`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!form) return null;
  /** A request of the résumé besides saving it (PDF, deletion): then load it afresh. */
  const run = (action) => request(async () => {
    await action();
    reload();
  });
  async function upload() {
    if (!file) return;
    if (await run(() => recruitApi.uploadPdf(file))) setFile(null);
  }
  const toggleType = (type, on) =>
    set("job_types")(on ? [...form.job_types, type] : form.job_types.filter((x) => x !== type));
  return html`<form class="panel" onSubmit=${save} aria-labelledby="resume-title" data-testid="resume-form">
    <h2 id="resume-title">${t("recruit.resume")}</h2>
    <${AreaField} label=${t("recruit.summary")} value=${form.summary} onInput=${set("summary")}
      testid="resume-summary" maxlength="4000" />
    <${Rows} title=${t("recruit.education")} rows=${form.education} onChange=${set("education")}
      testid="resume-education" blank=${{ school: "", degree: "", field: "", start: "", end: "" }}
      fields=${[["school", t("recruit.school")], ["degree", t("recruit.degree")],
        ["field", t("recruit.field")], ["start", t("recruit.start"), { placeholder: "2020-09" }],
        ["end", t("recruit.end"), { placeholder: "2024-06" }]]} />
    <${Rows} title=${t("recruit.experience")} rows=${form.experience} onChange=${set("experience")}
      testid="resume-experience" blank=${{ employer: "", title: "", start: "", end: "" }}
      fields=${[["employer", t("recruit.employer")], ["title", t("recruit.job_title")],
        ["start", t("recruit.start"), { placeholder: "2020-09" }],
        ["end", t("recruit.end"), { placeholder: "2024-06" }]]} />
    <${TextField} label=${t("recruit.skills")} value=${form.skills} onInput=${set("skills")}
      testid="resume-skills" />
    <${Rows} title=${t("recruit.languages")} rows=${form.languages} onChange=${set("languages")}
      testid="resume-languages" blank=${{ language: "", level: "" }}
      fields=${[["language", t("recruit.language")], ["level", t("recruit.level")]]} />
    <fieldset class="fieldset">
      <legend>${t("recruit.desired_types")}</legend>
      ${JOB_TYPES.map((type) => html`<${CheckField} key=${type} label=${t(`recruit.job_type.${type}`)}
        checked=${form.job_types.includes(type)} onChange=${(on) => toggleType(type, on)}
        testid=${`resume-type-${type}`} />`)}
    </fieldset>
    <${TextField} label=${t("recruit.places")} value=${form.places} onInput=${set("places")}
      testid="resume-places" />
    <${ErrorBox} error=${saveError} />
    <button type="submit" class="button" data-testid="resume-save">${t("recruit.save")}</button>
    <${Saved} shown=${saved} />

    <fieldset class="fieldset" data-testid="resume-pdf">
      <legend>${t("recruit.pdf")}</legend>
      ${data?.pdf
        ? html`<p data-testid="resume-pdf-name">${data.pdf.name}
            (${Math.ceil(data.pdf.size / 1024)} KB)
            <a class="button button-small button-quiet" href="/api/resume/pdf" download>${t("recruit.download")}</a>
            <button type="button" class="button button-small button-danger-soft"
              onClick=${() => run(recruitApi.deletePdf)}>${t("recruit.delete_pdf")}</button></p>`
        : html`<p class="muted small">${t("recruit.pdf_hint")}</p>`}
      <label class="field">
        <span class="field-label">${t("recruit.choose_pdf")}</span>
        <input type="file" accept="application/pdf,.pdf" data-testid="resume-pdf-input"
          onChange=${(e) => setFile(e.currentTarget.files?.[0] || null)} />
      </label>
      <button type="button" class="button button-small" disabled=${!file} onClick=${upload}
        data-testid="resume-pdf-upload">${t("recruit.upload")}</button>
    </fieldset>
    ${data &&
    html`<button type="button" class="button button-small button-danger-soft" data-testid="resume-delete"
      onClick=${() => confirm(t("recruit.delete_resume_confirm")) && run(recruitApi.deleteResume)}>
      ${t("recruit.delete_resume")}</button>`}
  </form>`;
}

export function ProfilePage() {
  useTitle("recruit.profile");
  const me = user.value;
  if (me === undefined) return html`<${Loading} />`;
  if (!me) return html`<${NeedLogin} />`;
  return html`<div class="recruit-page">
    <h1>${t("recruit.profile_title")}</h1>
    ${me.kind === "guest" &&
    html`<p class="notice">${t("recruit.guest_upgrade_hint")}
      <a class="button button-small" href="/signup" data-testid="upgrade-link">${t("recruit.upgrade")}</a></p>`}
    <${ProfileForm} />
    <${ResumeEditor} />
  </div>`;
}

// --- jobs ---------------------------------------------------------------------------------------

function JobFacts({ job }) {
  const salary = job.salary_min != null || job.salary_max != null
    ? `${job.salary_min ?? "…"}–${job.salary_max ?? "…"} ${job.currency}` : null;
  return html`<ul class="facts">
    <li>${t(`recruit.job_type.${job.job_type}`)}</li>
    ${(job.place || job.country) &&
    html`<li>${[job.place, countryName(job.country)].filter(Boolean).join(", ")}</li>`}
    ${job.remote && html`<li>${t("recruit.remote")}</li>`}
    ${salary && html`<li>${salary}</li>`}
    ${job.deadline && html`<li>${t("recruit.deadline", { date: job.deadline })}</li>`}
    ${(job.fields || []).map((f) => html`<li class="tag" key=${f}>${f}</li>`)}
  </ul>`;
}

function JobCard({ job }) {
  return html`<li class="job-card" data-testid="job-card" data-job=${job.id}>
    <a class="job-title" href=${`/job/${job.id}`}>${job.title}</a>
    <div class="muted small">${localName(job.booth)}</div>
    <${JobFacts} job=${job} />
  </li>`;
}

export function JobsPage() {
  useTitle("recruit.jobs");
  const [filters, setFilters] = useState({ q: "", field: "", job_type: "", country: "",
    booth_kind: "", remote: "" });
  const [applied, setApplied] = useState(filters);
  const { data, error, loading } = useLoad(() => recruitApi.jobs({ ...applied, limit: 50 }),
    [JSON.stringify(applied)]);
  const set = (key) => (value) => setFilters({ ...filters, [key]: value });
  return html`<div class="recruit-page">
    <h1>${t("recruit.jobs")}</h1>
    <form class="panel filters" role="search" onSubmit=${(e) => {
      e.preventDefault();
      setApplied(filters);
    }}>
      <${TextField} label=${t("recruit.search")} value=${filters.q} onInput=${set("q")} testid="jobs-q" />
      <${TextField} label=${t("recruit.field")} value=${filters.field} onInput=${set("field")} testid="jobs-field" />
      <label class="field"><span class="field-label">${t("recruit.job_type_label")}</span>
        <select value=${filters.job_type} onChange=${(e) => set("job_type")(e.currentTarget.value)}
          data-testid="jobs-type">
          <option value="">${t("recruit.any")}</option>
          ${JOB_TYPES.map((type) => html`<option value=${type}>${t(`recruit.job_type.${type}`)}</option>`)}
        </select></label>
      <${TextField} label=${t("recruit.country")} value=${filters.country} onInput=${set("country")}
        testid="jobs-country" maxlength="2" />
      <label class="field"><span class="field-label">${t("lobby.kind_filter")}</span>
        <select value=${filters.booth_kind} onChange=${(e) => set("booth_kind")(e.currentTarget.value)}>
          <option value="">${t("lobby.kind_any")}</option>
          ${BOOTH_KINDS.map((k) => html`<option value=${k}>${t(`kind.${k}`)}</option>`)}
        </select></label>
      <label class="field"><span class="field-label">${t("recruit.remote")}</span>
        <select value=${filters.remote} onChange=${(e) => set("remote")(e.currentTarget.value)}>
          <option value="">${t("recruit.any")}</option>
          <option value="true">${t("recruit.yes")}</option>
          <option value="false">${t("recruit.no")}</option>
        </select></label>
      <button type="submit" class="button" data-testid="jobs-search">${t("recruit.search")}</button>
    </form>
    ${loading ? html`<${Loading} />` : error ? html`<${ErrorBox} error=${error} />` : html`
      <p class="muted" role="status">${plural("recruit.jobs_found", data.count)}</p>
      <ul class="job-list" data-testid="job-list">
        ${data.results.map((job) => html`<${JobCard} key=${job.id} job=${job} />`)}
      </ul>`}
  </div>`;
}

function ApplyForm({ job }) {
  const me = user.value;
  const [note, setNote] = useState("");
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  if (!me) return html`<${NeedLogin} />`;
  if (me.kind === "guest") {
    return html`<p class="notice" data-testid="apply-guest">${t("recruit.guest_cannot_apply")}
      <a class="button button-small" href="/signup">${t("recruit.upgrade")}</a></p>`;
  }
  if (staffsBooth(job.booth.id)) return null;
  if (done) {
    return html`<p class="notice" data-testid="apply-done">${t("recruit.applied")}
      <a href="/applications">${t("recruit.my_applications")}</a></p>`;
  }
  async function apply(ev) {
    ev.preventDefault();
    setError(null);
    try {
      setDone(await recruitApi.apply(job.id, note));
    } catch (err) {
      setError(err);
    }
  }
  return html`<form class="panel" onSubmit=${apply} aria-labelledby="apply-title" data-testid="apply-form">
    <h2 id="apply-title">${t("recruit.apply")}</h2>
    <p class="muted small">${t("recruit.apply_hint")}</p>
    <${AreaField} label=${t("recruit.cover_note")} value=${note} onInput=${setNote}
      testid="apply-note" maxlength="5000" />
    <${ErrorBox} error=${error} />
    ${error?.code === "resume.missing" && html`<p><a href="/profile">${t("recruit.fill_resume")}</a></p>`}
    <button type="submit" class="button" data-testid="apply-submit">${t("recruit.apply")}</button>
  </form>`;
}

export function JobPage({ id }) {
  const { data: job, error, loading } = useLoad(() => recruitApi.job(id), [id]);
  useEffect(() => {
    if (job) document.title = job.title;
  }, [job]);
  if (loading) return html`<${Loading} />`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  return html`<div class="recruit-page" data-testid="job-page">
    <p class="crumbs"><a href="/jobs">← ${t("recruit.jobs")}</a></p>
    <h1 data-testid="job-title">${job.title}</h1>
    <p><a href=${`/booth/${job.booth.id}`}>${localName(job.booth)}</a></p>
    <${JobFacts} job=${job} />
    ${!job.is_open && html`<p class="notice">${t("recruit.job_closed")}</p>`}
    <div class="job-description" data-testid="job-description">${job.description}</div>
    ${job.is_open && html`<${ApplyForm} job=${job} />`}
    ${staffsBooth(job.booth.id) && html`<${JobCandidates} job=${job} />`}
  </div>`;
}

/** The open jobs of a booth, for its booth page. */
export function BoothJobs({ booth }) {
  const { data, error } = useLoad(() => recruitApi.jobs({ booth: booth.id, limit: 100 }), [booth.id]);
  const staff = staffsBooth(booth.id);
  if (error) return null;
  return html`<section class="panel booth-jobs" aria-labelledby="booth-jobs-title" data-testid="booth-jobs">
    <h2 id="booth-jobs-title">${t("recruit.open_jobs")}
      ${staff && boothUnread(booth.id) > 0 &&
      html` <span class="badge badge-live" data-testid="booth-unread">${boothUnread(booth.id)}</span>`}</h2>
    ${data && (data.results.length
      ? html`<ul class="job-list compact">${data.results.map((job) => html`<li key=${job.id}>
          <a href=${`/job/${job.id}`} data-testid="booth-job">${job.title}</a>
          <span class="muted small"> · ${t(`recruit.job_type.${job.job_type}`)}</span></li>`)}</ul>`
      : html`<p class="muted small">${t("recruit.no_jobs")}</p>`)}
    ${staff && html`<p><a class="button button-small" href=${`/booth/${booth.id}/recruit`}
      data-testid="recruit-link">${t("recruit.recruiting")}</a></p>`}
  </section>`;
}

// --- interviews ---------------------------------------------------------------------------------

/** The interview call in progress, or the note that the other side has not come yet. */
export function InterviewCall() {
  const c = call.value;
  if (c && String(c.id).startsWith("iv")) {
    return html`<section class="panel" aria-label=${t("recruit.interview")} data-testid="interview-call">
      <${CallView} c=${c} /></section>`;
  }
  if (interview.value) {
    return html`<p class="notice" role="status" data-testid="interview-waiting">${t("recruit.interview_waiting")}</p>`;
  }
  const waiting = peerWaiting.value;
  if (waiting) {
    return html`<p class="notice" role="status" data-testid="interview-peer-waiting">
      ${t("recruit.peer_waiting", { name: waiting.user.name })}
      <${JoinButton} slot=${{ id: waiting.slot }} /></p>`;
  }
  return null;
}

function JoinButton({ slot }) {
  const [error, setError] = useState(null);
  async function join() {
    setError(null);
    try {
      peerWaiting.value = null;
      await joinInterview(slot.id);
    } catch (err) {
      setError(err);
    }
  }
  return html`<span>
    <button type="button" class="button button-small" onClick=${join} data-testid="interview-join">
      ${t("recruit.join")}</button>
    <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
  </span>`;
}

function SlotTime({ slot }) {
  return html`<span data-testid="slot-time">${formatDateTime(slot.starts_at)}–${formatDateTime(slot.ends_at)}</span>`;
}

// --- my applications ----------------------------------------------------------------------------

function MyApplication({ app, reload }) {
  const [error, setError] = useState(null);
  async function run(action) {
    setError(null);
    try {
      await action();
      reload();
    } catch (err) {
      setError(err);
    }
  }
  const final = app.status === "withdrawn" || app.status === "rejected";
  return html`<li class="panel application" data-testid="my-application" data-application=${app.id}>
    <div class="application-head">
      <a href=${`/job/${app.job.id}`} class="job-title">${app.job.title}</a>
      <span class="muted"> · ${app.booth.name}</span>
      <${StatusBadge} status=${app.status} />
    </div>
    ${app.cover_note && html`<p class="cover-note">${app.cover_note}</p>`}
    ${app.slots.length > 0 && html`<ul class="slots">${app.slots.map((slot) => html`
      <li key=${slot.id} data-testid="my-slot" data-state=${slot.state}>
        ${t("recruit.interview_with", { name: slot.host.name })} <${SlotTime} slot=${slot} />
        ${slot.state === "offered" && html`
          <button type="button" class="button button-small" data-testid="slot-book"
            onClick=${() => run(() => recruitApi.bookSlot(slot.id))}>${t("recruit.book")}</button>
          <button type="button" class="button button-small button-quiet"
            onClick=${() => run(() => recruitApi.releaseSlot(slot.id))}>${t("recruit.decline")}</button>`}
        ${slot.state === "booked" && html` <span class="badge">${t("recruit.booked")}</span>
          <${JoinButton} slot=${slot} />`}
      </li>`)}</ul>`}
    ${!final && html`<button type="button" class="button button-small button-danger-soft"
      data-testid="app-withdraw" onClick=${() => run(() => recruitApi.withdraw(app.id))}>
      ${t("recruit.withdraw")}</button>`}
    <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
  </li>`;
}

export function ApplicationsPage() {
  useTitle("recruit.my_applications");
  const me = user.value;
  const { data, error, loading, reload } = useLoad(
    () => (me ? recruitApi.myApplications() : Promise.resolve(null)), [me?.id]);
  useNotices(reload);
  useEffect(() => {
    if (me && unread.value?.notices) markRead().catch(() => {});
  }, [me?.id, unread.value?.notices]);
  if (me === undefined) return html`<${Loading} />`;
  if (!me) return html`<${NeedLogin} />`;
  return html`<div class="recruit-page">
    <h1>${t("recruit.my_applications")}</h1>
    <${InterviewCall} />
    ${error ? html`<${ErrorBox} error=${error} onRetry=${reload} />`
      // Still loading, or the session was known only after the first (empty) load.
      : loading || !data ? html`<${Loading} />`
      : data.results.length === 0
        ? html`<p class="muted">${t("recruit.no_applications")} <a href="/jobs">${t("recruit.jobs")}</a></p>`
        : html`<ul class="application-list" data-testid="my-applications">
            ${data.results.map((app) => html`<${MyApplication} key=${app.id} app=${app} reload=${reload} />`)}
          </ul>`}
  </div>`;
}

// --- the staff's recruiting page ----------------------------------------------------------------

function ResumeView({ appId }) {
  const { data, error } = useLoad(() => recruitApi.applicationResume(appId), [appId]);
  if (error) return html`<p class="muted small">${t("recruit.no_resume")}</p>`;
  if (!data) return null;
  const r = data.data || {};
  return html`<div class="resume-view" data-testid="resume-view">
    ${r.summary && html`<p>${r.summary}</p>`}
    ${r.education?.length > 0 && html`<h4>${t("recruit.education")}</h4><ul>${r.education.map((e, i) =>
      html`<li key=${i}>${[e.degree, e.field, e.school].filter(Boolean).join(", ")} ${e.start || ""}–${e.end || ""}</li>`)}</ul>`}
    ${r.experience?.length > 0 && html`<h4>${t("recruit.experience")}</h4><ul>${r.experience.map((e, i) =>
      html`<li key=${i}>${[e.title, e.employer].filter(Boolean).join(", ")} ${e.start || ""}–${e.end || ""}</li>`)}</ul>`}
    ${r.skills?.length > 0 && html`<p><strong>${t("recruit.skills")}:</strong> <span data-testid="resume-view-skills">${joinList(r.skills)}</span></p>`}
    ${data.pdf && html`<p><a href=${recruitApi.resumePdfUrl(appId)} download data-testid="resume-view-pdf">
      ${t("recruit.download")} ${data.pdf.name}</a></p>`}
  </div>`;
}

function ApplicationDetail({ appId, slots, onChange }) {
  const { data: app, error, reload } = useLoad(() => recruitApi.application(appId), [appId]);
  const [actionError, setActionError] = useState(null);
  const [slotId, setSlotId] = useState("");
  useNotices(reload, (n) => n.data?.application === appId);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!app) return html`<${Loading} />`;
  async function run(action) {
    setActionError(null);
    try {
      await action();
      reload();
      onChange();
    } catch (err) {
      setActionError(err);
    }
  }
  const final = app.status === "withdrawn" || app.status === "rejected";
  const open = slots.filter((s) => s.state === "open");
  return html`<div class="panel application-detail" data-testid="app-detail" data-application=${app.id}>
    <h3>${app.candidate.name} · ${app.job.title} <${StatusBadge} status=${app.status} /></h3>
    ${app.profile && html`<p class="muted" data-testid="app-profile">${[app.profile.headline,
      app.profile.organisation, countryName(app.profile.country), joinList(app.profile.languages),
      joinList(app.profile.interests)].filter(Boolean).join(" · ")}</p>`}
    <h4>${t("recruit.cover_note")}</h4>
    <p class="cover-note" data-testid="app-cover-note">${app.cover_note || "—"}</p>
    <h4>${t("recruit.resume")}</h4>
    ${app.has_resume ? html`<${ResumeView} appId=${app.id} />` : html`<p class="muted small">${t("recruit.no_resume")}</p>`}
    ${!final && html`<div class="actions" role="group" aria-label=${t("recruit.move")}>
      ${STAFF_MOVES.map((s) => html`<button type="button" key=${s}
        class=${`button button-small ${s === "rejected" ? "button-danger-soft" : ""}`}
        data-testid=${`app-move-${s}`} onClick=${() => run(() => recruitApi.move(app.id, s))}>
        ${t(`recruit.move_to.${s}`)}</button>`)}
    </div>
    <div class="actions">
      <label class="field"><span class="field-label">${t("recruit.offer_slot")}</span>
        <select value=${slotId} onChange=${(e) => setSlotId(e.currentTarget.value)} data-testid="offer-slot-select">
          <option value="">${t("recruit.choose_slot")}</option>
          ${open.map((s) => html`<option value=${s.id}>${formatDateTime(s.starts_at)} · ${s.host.name}</option>`)}
        </select></label>
      <button type="button" class="button button-small" disabled=${!slotId} data-testid="offer-slot"
        onClick=${() => run(() => recruitApi.offerSlot(Number(slotId), app.id))}>${t("recruit.offer")}</button>
    </div>`}
    ${app.slots.length > 0 && html`<ul class="slots">${app.slots.map((slot) => html`<li key=${slot.id}
      data-testid="app-slot" data-state=${slot.state}><${SlotTime} slot=${slot} />
      <span class="badge">${t(`recruit.slot_state.${slot.state}`)}</span>
      ${slot.state === "booked" && slot.host.id === user.value?.id && html`<${JoinButton} slot=${slot} />`}</li>`)}</ul>`}
    <${ErrorBox} error=${actionError} onDismiss=${() => setActionError(null)} />
    <details class="audit" data-testid="app-audit">
      <summary>${t("recruit.audit")}</summary>
      <ol>${app.events.map((e, i) => html`<li key=${i}>${formatDateTime(e.at)} · ${e.by.name}:
        ${e.from ? `${t(`recruit.status.${e.from}`)} → ` : ""}${t(`recruit.status.${e.to}`)}
        ${e.note && html` (${e.note})`}</li>`)}</ol>
    </details>
  </div>`;
}

function StaffApplications({ booth, slots, reloadSlots }) {
  const { data, error, reload } = useLoad(() => recruitApi.boothApplications(booth), [booth]);
  const [selected, setSelected] = useState(null);
  useNotices(reload, (n) => n.data?.booth === booth || n.data?.application);
  const refresh = () => {
    reload();
    reloadSlots();
  };
  return html`<section class="panel" aria-labelledby="apps-title" data-testid="staff-applications">
    <h2 id="apps-title">${t("recruit.applications")}
      <span class="badge badge-live" data-testid="staff-unread" data-count=${boothUnread(booth)}
        title=${t("recruit.unread_title")}>${plural("recruit.unread", boothUnread(booth))}</span></h2>
    ${error && html`<${ErrorBox} error=${error} onRetry=${reload} />`}
    ${data && (data.results.length === 0 ? html`<p class="muted">${t("recruit.no_applications_yet")}</p>` : html`
      <ul class="application-list">${data.results.map((app) => html`<li key=${app.id}>
        <button type="button" class=${`link-button ${app.status === "submitted" ? "unread" : ""}`}
          aria-pressed=${selected === app.id} data-testid="staff-application" data-application=${app.id}
          onClick=${() => setSelected(app.id)}>
          ${app.candidate.name} · ${app.job.title}</button> <${StatusBadge} status=${app.status} /></li>`)}
      </ul>`)}
    ${selected && html`<${ApplicationDetail} key=${selected} appId=${selected} slots=${slots}
      onChange=${refresh} />`}
  </section>`;
}

const BLANK_JOB = { title: "", description: "", job_type: "full_time", fields: "", place: "",
  country: "", remote: false, salary_min: "", salary_max: "", currency: "", languages: "",
  deadline: "" };

function jobBody(form) {
  const number = (v) => (String(v).trim() === "" ? null : Number(v));
  return { title: form.title, description: form.description, job_type: form.job_type,
    fields: splitList(form.fields), place: form.place, country: form.country, remote: form.remote,
    salary_min: number(form.salary_min), salary_max: number(form.salary_max),
    currency: form.currency, languages: splitList(form.languages), deadline: form.deadline || null };
}

function JobForm({ booth, job, onDone }) {
  const [form, setForm] = useState(job
    ? { ...job, fields: joinList(job.fields), languages: joinList(job.languages),
      salary_min: job.salary_min ?? "", salary_max: job.salary_max ?? "", deadline: job.deadline || "" }
    : BLANK_JOB);
  const [error, setError] = useState(null);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  async function save(ev) {
    ev.preventDefault();
    setError(null);
    try {
      if (job) await recruitApi.editJob(job.id, jobBody(form));
      else await recruitApi.createJob(booth, jobBody(form));
      onDone();
    } catch (err) {
      setError(err);
    }
  }
  return html`<form class="job-form" onSubmit=${save} data-testid="job-form">
    <div class="form-grid">
      <${TextField} label=${t("recruit.job_title")} value=${form.title} onInput=${set("title")}
        testid="job-form-title" required maxlength="200" />
      <label class="field"><span class="field-label">${t("recruit.job_type_label")}</span>
        <select value=${form.job_type} onChange=${(e) => set("job_type")(e.currentTarget.value)}
          data-testid="job-form-type">
          ${JOB_TYPES.map((type) => html`<option value=${type}>${t(`recruit.job_type.${type}`)}</option>`)}
        </select></label>
      <${TextField} label=${t("recruit.field")} value=${form.fields} onInput=${set("fields")} testid="job-form-fields" />
      <${TextField} label=${t("recruit.place")} value=${form.place} onInput=${set("place")} testid="job-form-place" />
      <${TextField} label=${t("recruit.country")} value=${form.country} onInput=${set("country")} maxlength="2" />
      <${TextField} label=${t("recruit.salary_min")} type="number" min="0" value=${form.salary_min} onInput=${set("salary_min")} />
      <${TextField} label=${t("recruit.salary_max")} type="number" min="0" value=${form.salary_max} onInput=${set("salary_max")} />
      <${TextField} label=${t("recruit.currency")} value=${form.currency} onInput=${set("currency")} maxlength="3" />
      <${TextField} label=${t("recruit.languages")} value=${form.languages} onInput=${set("languages")} />
      <${TextField} label=${t("recruit.deadline_label")} type="date" value=${form.deadline} onInput=${set("deadline")} />
    </div>
    <${CheckField} label=${t("recruit.remote")} checked=${form.remote} onChange=${set("remote")} />
    <${AreaField} label=${t("recruit.description")} value=${form.description} onInput=${set("description")}
      testid="job-form-description" rows="6" />
    <${ErrorBox} error=${error} />
    ${error?.code === "request.invalid" && html`<p class="muted small">${t("recruit.check_fields")}</p>`}
    <button type="submit" class="button" data-testid="job-form-save">${t("recruit.save")}</button>
  </form>`;
}

function CsvImport({ booth, onDone }) {
  const [file, setFile] = useState(null);
  const [error, setError] = useState(null);
  const [rows, setRows] = useState([]);
  const [done, setDone] = useState(null);
  async function submit() {
    setError(null);
    setRows([]);
    setDone(null);
    try {
      const reply = await recruitApi.importJobs(booth, file);
      setDone(reply.created);
      onDone();
    } catch (err) {
      setError(err);
      setRows(err.detail?.rows || []);
    }
  }
  return html`<div class="csv-import" data-testid="csv-import">
    <h3>${t("recruit.csv_import")}</h3>
    <p class="muted small">${t("recruit.csv_hint")}</p>
    <input type="file" accept=".csv,text/csv" aria-label=${t("recruit.csv_import")}
      onChange=${(e) => setFile(e.currentTarget.files?.[0] || null)} data-testid="csv-input" />
    <button type="button" class="button button-small" disabled=${!file} onClick=${submit}
      data-testid="csv-submit">${t("recruit.upload")}</button>
    ${done !== null && html`<p class="notice" role="status">${plural("recruit.csv_done", done)}</p>`}
    <${ErrorBox} error=${error} />
    ${rows.length > 0 && html`<ul class="csv-errors" data-testid="csv-errors">${rows.map((r) =>
      html`<li key=${r.row}>${t("recruit.csv_row", { row: r.row })}: ${r.errors.join("; ")}</li>`)}</ul>`}
  </div>`;
}

function StaffJobs({ booth }) {
  const { data, error, reload } = useLoad(() => recruitApi.boothJobs(booth), [booth]);
  const [editing, setEditing] = useState(null); // null | "new" | job
  const [actionError, setActionError] = useState(null);
  async function toggle(job) {
    setActionError(null);
    try {
      await (job.is_open ? recruitApi.closeJob(job.id) : recruitApi.reopenJob(job.id));
      reload();
    } catch (err) {
      setActionError(err);
    }
  }
  const done = () => {
    setEditing(null);
    reload();
  };
  return html`<section class="panel" aria-labelledby="staff-jobs-title" data-testid="staff-jobs">
    <h2 id="staff-jobs-title">${t("recruit.booth_jobs")}</h2>
    ${error && html`<${ErrorBox} error=${error} onRetry=${reload} />`}
    <${ErrorBox} error=${actionError} onDismiss=${() => setActionError(null)} />
    ${data && html`<ul class="job-list compact">${data.results.map((job) => html`<li key=${job.id}
      data-testid="staff-job" data-open=${job.is_open}>
      <a href=${`/job/${job.id}`}>${job.title}</a>
      ${!job.is_open && html` <span class="badge">${t("recruit.closed")}</span>`}
      <button type="button" class="button button-small button-quiet" onClick=${() => setEditing(job)}>${t("recruit.edit")}</button>
      <button type="button" class="button button-small button-quiet" data-testid="staff-job-toggle"
        onClick=${() => toggle(job)}>${job.is_open ? t("recruit.close") : t("recruit.reopen")}</button>
    </li>`)}</ul>`}
    ${editing
      ? html`<${JobForm} key=${editing === "new" ? "new" : editing.id} booth=${booth}
          job=${editing === "new" ? null : editing} onDone=${done} />`
      : html`<button type="button" class="button button-small" data-testid="job-new"
          onClick=${() => setEditing("new")}>${t("recruit.new_job")}</button>`}
    <${CsvImport} booth=${booth} onDone=${reload} />
  </section>`;
}

function StaffSlots({ booth, slots, reload }) {
  const [start, setStart] = useState("");
  const [minutes, setMinutes] = useState("30");
  const [error, setError] = useState(null);
  async function create(ev) {
    ev.preventDefault();
    setError(null);
    try {
      const begin = new Date(start);
      const end = new Date(begin.getTime() + Number(minutes) * 60_000);
      await recruitApi.createSlot(booth, begin.toISOString(), end.toISOString());
      reload();
    } catch (err) {
      setError(err);
    }
  }
  async function remove(slot) {
    setError(null);
    try {
      await recruitApi.deleteSlot(slot.id);
      reload();
    } catch (err) {
      setError(err);
    }
  }
  return html`<section class="panel" aria-labelledby="slots-title" data-testid="staff-slots">
    <h2 id="slots-title">${t("recruit.slots")}</h2>
    <ul class="slots">${slots.map((slot) => html`<li key=${slot.id} data-testid="staff-slot"
      data-state=${slot.state}><${SlotTime} slot=${slot} /> · ${slot.host.name}
      <span class="badge">${t(`recruit.slot_state.${slot.state}`)}</span>
      ${slot.state === "open" && html`<button type="button" class="button button-small button-quiet"
        onClick=${() => remove(slot)}>${t("recruit.remove")}</button>`}
      ${slot.state === "booked" && slot.host.id === user.value?.id && html`<${JoinButton} slot=${slot} />`}
    </li>`)}</ul>
    <form class="actions" onSubmit=${create}>
      <${TextField} label=${t("recruit.slot_start")} type="datetime-local" value=${start}
        onInput=${setStart} testid="slot-start" required />
      <${TextField} label=${t("recruit.slot_minutes")} type="number" min="5" max="240"
        value=${minutes} onInput=${setMinutes} testid="slot-minutes" required />
      <button type="submit" class="button button-small" data-testid="slot-create">${t("recruit.publish_slot")}</button>
    </form>
    <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
  </section>`;
}

function TalentSearch() {
  const [q, setQ] = useState("");
  const [results, setResults] = useState(null);
  const [open, setOpen] = useState(null);
  const [error, setError] = useState(null);
  async function search(ev) {
    ev.preventDefault();
    setError(null);
    try {
      setResults((await recruitApi.talent(q.trim())).results);
    } catch (err) {
      setError(err);
    }
  }
  async function show(userId) {
    setError(null);
    try {
      setOpen({ user: userId, resume: await recruitApi.talentResume(userId) });
    } catch (err) {
      setError(err);
    }
  }
  return html`<section class="panel" aria-labelledby="talent-title" data-testid="talent-search">
    <h2 id="talent-title">${t("recruit.talent")}</h2>
    <p class="muted small">${t("recruit.talent_hint")}</p>
    <form class="actions" role="search" onSubmit=${search}>
      <${TextField} label=${t("recruit.search")} value=${q} onInput=${setQ} testid="talent-q" />
      <button type="submit" class="button button-small">${t("recruit.search")}</button>
    </form>
    <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
    ${results && (results.length === 0 ? html`<p class="muted">${t("recruit.talent_none")}</p>` : html`
      <ul class="application-list">${results.map((r) => html`<li key=${r.user}>
        <button type="button" class="link-button" onClick=${() => show(r.user)}>${r.name}</button>
        <span class="muted small"> · ${joinList(r.skills)}</span>
        ${open?.user === r.user && html`<div class="resume-view">
          ${open.resume.data.summary && html`<p>${open.resume.data.summary}</p>`}
          ${open.resume.pdf && html`<a href=${`/api/users/${r.user}/resume/pdf`} download>
            ${t("recruit.download")} ${open.resume.pdf.name}</a>`}</div>`}
      </li>`)}</ul>`)}
  </section>`;
}

export function RecruitStaffPage({ id }) {
  useTitle("recruit.recruiting");
  const me = user.value;
  const staff = staffsBooth(id);
  const { data, reload } = useLoad(
    () => (staff ? recruitApi.boothSlots(id) : Promise.resolve({ results: [] })), [id, staff]);
  useNotices(reload, (n) => n.kind.startsWith("slot."));
  if (me === undefined) return html`<${Loading} />`;
  if (!me) return html`<${NeedLogin} />`;
  if (!staff) return html`<p class="notice" data-testid="recruit-forbidden">${t("recruit.staff_only")}</p>`;
  const slots = data?.results || [];
  return html`<div class="recruit-page recruit-staff">
    <p class="crumbs"><a href=${`/booth/${id}`}>← ${t("recruit.back_to_booth")}</a></p>
    <h1>${t("recruit.recruiting")}</h1>
    <${InterviewCall} />
    <div class="recruit-grid">
      <${StaffApplications} booth=${id} slots=${slots} reloadSlots=${reload} />
      <div>
        <${StaffSlots} booth=${id} slots=${slots} reload=${reload} />
        <${StaffJobs} booth=${id} />
        <${TalentSearch} />
      </div>
    </div>
  </div>`;
}
