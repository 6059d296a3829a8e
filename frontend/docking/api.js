// Project docking over HTTP (docs/api.md, "Project docking").

import { ApiError } from "../api.js";

function cookie(name) {
  const part = document.cookie.split(";").map((p) => p.trim()).find((p) => p.startsWith(`${name}=`));
  return part ? decodeURIComponent(part.slice(name.length + 1)) : "";
}

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET") {
    headers["X-CSRFToken"] = cookie("csrftoken");
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, "network", err.message);
  }
  const payload = (res.headers.get("Content-Type") || "").includes("json")
    ? await res.json().catch(() => null)
    : null;
  if (!res.ok) throw new ApiError(res.status, payload?.error?.code, payload?.error?.message);
  return payload ?? {};
}

function query(params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v) qs.set(k, String(v));
  const s = qs.toString();
  return s ? `?${s}` : "";
}

export const dock = {
  projects: (filters) => call("GET", `/api/projects${query(filters)}`),
  project: (id) => call("GET", `/api/projects/${id}`),
  myProjects: () => call("GET", "/api/projects/mine"),
  createProject: (data) => call("POST", "/api/projects", data),
  saveProject: (id, data) => call("PUT", `/api/projects/${id}`, data),
  projectInvestors: (id) => call("GET", `/api/projects/${id}/investors`),
  investor: () => call("GET", "/api/investor"),
  saveInvestor: (data) => call("PUT", "/api/investor", data),
  availability: () => call("GET", "/api/availability"),
  addAvailability: (data) => call("POST", "/api/availability", data),
  removeAvailability: (id) => call("DELETE", `/api/availability/${id}`),
  meetings: () => call("GET", "/api/meetings"),
  request: (data) => call("POST", "/api/meetings", data),
  slots: (id) => call("GET", `/api/meetings/${id}/slots`),
  accept: (id, data) => call("POST", `/api/meetings/${id}/accept`, data || {}),
  propose: (id, data) => call("POST", `/api/meetings/${id}/propose`, data),
  decline: (id) => call("POST", `/api/meetings/${id}/decline`),
  cancel: (id) => call("POST", `/api/meetings/${id}/cancel`),
  agenda: (tz) => call("GET", `/api/agenda${query({ tz })}`),
  recommendations: () => call("GET", "/api/recommendations"),
  jobCandidates: (id) => call("GET", `/api/jobs/${id}/candidates`),
};
