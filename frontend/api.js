// The HTTP side of Hallserver (docs/api.md): sessions and the expo directory.

/** An HTTP API error: `.code` from the error body when there is one, `.status` always. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
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
    if (body !== undefined) {
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
    throw new ApiError(res.status, err.code, err.message);
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

export const api = {
  session: () => call("GET", "/api/session"),
  login: (username, password) => call("POST", "/api/login", { username, password }),
  guest: (name) => call("POST", "/api/guest", { name }),
  logout: () => call("POST", "/api/logout", {}),
  expo: () => call("GET", "/api/expo"),
  hall: (id) => call("GET", `/api/halls/${encodeURIComponent(id)}`),
  booths: (params, opts) => call("GET", `/api/booths${query(params)}`, undefined, opts),
  booth: (id) => call("GET", `/api/booths/${encodeURIComponent(id)}`),
};
