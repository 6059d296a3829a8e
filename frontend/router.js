// A tiny client-side router on the history API: /, /hall/<id>, /booth/<id>, /login.

import { signal } from "@preact/signals";

/** The current location, as {path, search}. */
export const location$ = signal({ path: window.location.pathname, search: window.location.search });

const ROUTES = [
  { name: "lobby", pattern: /^\/$/ },
  { name: "hall", pattern: /^\/hall\/(\d+)\/?$/ },
  { name: "booth", pattern: /^\/booth\/(\d+)\/?$/ },
  { name: "login", pattern: /^\/login\/?$/ },
  { name: "moderate", pattern: /^\/moderate\/?$/ }, // the moderator console
  // recruitment
  { name: "signup", pattern: /^\/signup\/?$/ },
  { name: "profile", pattern: /^\/profile\/?$/ },
  { name: "jobs", pattern: /^\/jobs\/?$/ },
  { name: "job", pattern: /^\/job\/(\d+)\/?$/ },
  { name: "applications", pattern: /^\/applications\/?$/ },
  { name: "recruit", pattern: /^\/booth\/(\d+)\/recruit\/?$/ },
  { name: "console", pattern: /^\/console(?:\/(\d+))?\/?$/ }, // the exhibitor console
  { name: "console-expo", pattern: /^\/console\/expo\/?$/ }, // organisers' figures
  // project docking (frontend/docking/)
  { name: "projects", pattern: /^\/projects\/?$/ },
  { name: "project_new", pattern: /^\/projects\/new\/?$/ },
  { name: "project", pattern: /^\/project\/(\d+)\/?$/ },
  { name: "meetings", pattern: /^\/meetings\/?$/ },
  { name: "investor", pattern: /^\/investor\/?$/ },
];

/** {name, id} for a path, or {name: "notfound"}. */
export function matchRoute(path) {
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (m) return { name: route.name, id: m[1] ? Number(m[1]) : null };
  }
  return { name: "notfound", id: null };
}

function isAppPath(path) {
  return matchRoute(path).name !== "notfound";
}

function sync() {
  location$.value = { path: window.location.pathname, search: window.location.search };
}

/** Go to `to` (a same-origin path with optional query) without reloading the page. */
export function navigate(to, { replace = false } = {}) {
  const url = new URL(to, window.location.href);
  if (url.origin !== window.location.origin) {
    window.location.assign(to);
    return;
  }
  const target = url.pathname + url.search + url.hash;
  const current = window.location.pathname + window.location.search + window.location.hash;
  if (target !== current) {
    if (replace) history.replaceState(null, "", target);
    else history.pushState(null, "", target);
  }
  sync();
  if (!url.hash) window.scrollTo(0, 0);
}

/** A safe "come back here" target: a same-origin app path, never "//host" or a URL. */
export function safeNext(value) {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//")) return "/";
  if (value.startsWith("/\\")) return "/";
  const path = value.split(/[?#]/)[0];
  return isAppPath(path) && path !== "/login" ? value : "/";
}

/** The login page URL that comes back to the current page afterwards. */
export function loginHref() {
  const here = window.location.pathname + window.location.search;
  if (matchRoute(window.location.pathname).name === "login") return "/login";
  return `/login?next=${encodeURIComponent(here)}`;
}

/** Intercept clicks on links to app pages, and follow back/forward navigation. */
export function installRouter() {
  window.addEventListener("popstate", sync);
  document.addEventListener("click", (ev) => {
    if (ev.defaultPrevented || ev.button !== 0) return;
    if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = ev.target.closest?.("a[href]");
    if (!a || (a.target && a.target !== "_self") || a.hasAttribute("download")) return;
    if (a.dataset.reload !== undefined) return;
    const url = new URL(a.href, window.location.href);
    if (url.origin !== window.location.origin || !isAppPath(url.pathname)) return;
    ev.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
