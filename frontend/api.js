// The HTTP side of Hallserver (docs/api.md): sessions and the expo directory.

/** An HTTP API error: `.code` from the error body when there is one, `.status` always. */
export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message || code || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail; // the whole error object (e.g. a CSV import's `rows`)
  }
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return "";
}

async function call(method, path, body, { signal } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", signal };
  if (method !== "GET") {
    headers["X-CSRFToken"] = cookie("csrftoken");
    if (body instanceof FormData) {
      init.body = body; // multipart: the browser sets the Content-Type with its boundary
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", err.message);
  }
  let payload = null;
  const type = res.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      payload = await res.json();
    } catch {
      payload = null;
    }
  }
  if (!res.ok) {
    const err = payload?.error || {};
    throw new ApiError(res.status, err.code, err.message, err);
  }
  return payload ?? {};
}

function query(params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `?${s}` : "";
}

/** A request in the API's conventions, for the apps' own modules (e.g. console/). */
export const request = call;

/** A multipart upload (e.g. a logo), with the CSRF token; answers like `request`. */
export async function upload(path, field, file) {
  const form = new FormData();
  form.append(field, file);
  let res;
  try {
    res = await fetch(path, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": cookie("csrftoken") },
    });
  } catch (err) {
    throw new ApiError(0, "network", err.message);
  }
  let payload = null;
  try {
    payload = await res.json();
  } catch {
    payload = null;
  }
  if (!res.ok) {
    const err = payload?.error || {};
    throw new ApiError(res.status, err.code, err.message);
  }
  return payload ?? {};
}

export const api = {
  session: () => call("GET", "/api/session"),
  login: (username, password) => call("POST", "/api/login", { username, password }),
  guest: (name) => call("POST", "/api/guest", { name }),
  logout: () => call("POST", "/api/logout", {}),
  expo: () => call("GET", "/api/expo"),
  hall: (id, params = {}) => call("GET", `/api/halls/${encodeURIComponent(id)}${query(params)}`),
  booths: (params, opts) => call("GET", `/api/booths${query(params)}`, undefined, opts),
  booth: (id) => call("GET", `/api/booths/${encodeURIComponent(id)}`),
};

const id = encodeURIComponent;

function fileForm(file) {
  const form = new FormData();
  form.append("file", file);
  return form;
}

/** Accounts and recruitment (docs/api.md, "Accounts" and "Recruitment"). */
export const recruitApi = {
  signup: (body) => call("POST", "/api/signup", body),
  upgrade: (body) => call("POST", "/api/upgrade", body),
  profile: () => call("GET", "/api/profile"),
  saveProfile: (body) => call("PUT", "/api/profile", body),
  resume: () => call("GET", "/api/resume"),
  saveResume: (body) => call("PUT", "/api/resume", body),
  deleteResume: () => call("DELETE", "/api/resume"),
  uploadPdf: (file) => call("POST", "/api/resume/pdf", fileForm(file)),
  deletePdf: () => call("DELETE", "/api/resume/pdf"),
  jobs: (params, opts) => call("GET", `/api/jobs${query(params)}`, undefined, opts),
  job: (jobId) => call("GET", `/api/jobs/${id(jobId)}`),
  boothJobs: (booth) => call("GET", `/api/booths/${id(booth)}/jobs`),
  createJob: (booth, body) => call("POST", `/api/booths/${id(booth)}/jobs`, body),
  editJob: (jobId, body) => call("PUT", `/api/jobs/${id(jobId)}`, body),
  closeJob: (jobId) => call("POST", `/api/jobs/${id(jobId)}/close`, {}),
  reopenJob: (jobId) => call("POST", `/api/jobs/${id(jobId)}/reopen`, {}),
  importJobs: (booth, file) => call("POST", `/api/booths/${id(booth)}/jobs/import`, fileForm(file)),
  apply: (jobId, coverNote) => call("POST", `/api/jobs/${id(jobId)}/apply`, { cover_note: coverNote }),
  myApplications: () => call("GET", "/api/applications"),
  withdraw: (appId) => call("POST", `/api/applications/${id(appId)}/withdraw`, {}),
  boothApplications: (booth) => call("GET", `/api/booths/${id(booth)}/applications`),
  application: (appId) => call("GET", `/api/applications/${id(appId)}`),
  move: (appId, status, note = "") =>
    call("POST", `/api/applications/${id(appId)}/status`, { status, note }),
  resumePdfUrl: (appId) => `/api/applications/${id(appId)}/resume/pdf`,
  applicationResume: (appId) => call("GET", `/api/applications/${id(appId)}/resume`),
  talent: (q) => call("GET", `/api/talent${query({ q })}`),
  talentResume: (userId) => call("GET", `/api/users/${id(userId)}/resume`),
  boothSlots: (booth) => call("GET", `/api/booths/${id(booth)}/slots`),
  createSlot: (booth, startsAt, endsAt) =>
    call("POST", `/api/booths/${id(booth)}/slots`, { starts_at: startsAt, ends_at: endsAt }),
  offerSlot: (slot, application) => call("POST", `/api/slots/${id(slot)}/offer`, { application }),
  bookSlot: (slot) => call("POST", `/api/slots/${id(slot)}/book`, {}),
  releaseSlot: (slot) => call("POST", `/api/slots/${id(slot)}/release`, {}),
  deleteSlot: (slot) => call("DELETE", `/api/slots/${id(slot)}`),
};
