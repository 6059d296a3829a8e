// Shared pieces of the UI: the header, the connection indicator, the language picker, avatars,
// error boxes, and the building blocks of the consoles (panels, count badges, toasts).

import { h } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import { t, plural, lang, setLanguage, LANGUAGES, errorText, localName } from "./i18n.js";
import { ws, user, expo, setUser, mayModerate } from "./store.js";
import { api } from "./api.js";
import { loginHref, location$, matchRoute } from "./router.js";
import { unread } from "./recruit-store.js";
import { Bell } from "./bell.js";
import { SearchBox } from "./search/search-box.js";

export const html = htm.bind(h);

/** The connection state as a small pill with a live region. */
export function ConnectionState() {
  const state = ws.state.value;
  const label = t(`conn.${state}`);
  return html`
    <div
      class="conn conn-${state}"
      role="status"
      aria-live="polite"
      data-testid="connection-state"
      data-state=${state}
      title=${t("conn.label", { state: label })}
    >
      <span class="conn-dot" aria-hidden="true"></span>
      <span class="conn-label">${label}</span>
    </div>
  `;
}

export function LanguageSwitcher() {
  return html`
    <label class="lang">
      <span class="visually-hidden">${t("lang.label")}</span>
      <select
        data-testid="lang-select"
        value=${lang.value}
        onChange=${(e) => setLanguage(e.currentTarget.value)}
      >
        ${LANGUAGES.map(
          (l) => html`<option value=${l.code} lang=${l.code}>${l.label}</option>`,
        )}
      </select>
    </label>
  `;
}

function UserBox() {
  const me = user.value;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (me === undefined) return null;
  if (!me) {
    if (matchRoute(location$.value.path).name === "login") return null;
    return html`<a class="button button-small" href=${loginHref()} data-testid="login-link"
        >${t("user.login")}</a
      >
      <a class="button button-small button-quiet" href="/signup" data-testid="signup-link"
        >${t("recruit.signup")}</a
      >`;
  }
  async function logout() {
    setBusy(true);
    setError(null);
    try {
      await api.logout();
      setUser(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return html`
    <div class="userbox">
      <span class="user-name" title=${t("user.signed_in_as", { name: me.name })}>
        <span class="visually-hidden">${t("user.signed_in_as", { name: "" })}</span>
        <span data-testid="user-name">${me.name}</span>
        ${me.kind && html`<span class="user-kind">${t(`user.kind.${me.kind}`)}</span>`}
      </span>
      <button
        type="button"
        class="button button-small button-quiet"
        onClick=${logout}
        disabled=${busy}
        data-testid="logout"
      >
        ${t("user.logout")}
      </button>
      ${error && html`<span class="inline-error" role="alert">${errorText(error)}</span>`}
    </div>
  `;
}

export function Header() {
  const title = expo.value ? localName(expo.value.expo) || t("app.name") : t("app.name");
  const route = matchRoute(location$.value.path).name;
  return html`
    <header class="site-header">
      <div class="site-header-inner">
        <a class="brand" href="/" aria-current=${route === "lobby" ? "page" : undefined}>
          <span class="brand-mark" aria-hidden="true">◆</span>
          <span class="brand-name">${title}</span>
        </a>
        <nav class="site-nav" aria-label=${t("nav.main")}>
          <a href="/" aria-current=${route === "lobby" ? "page" : undefined}>${t("nav.lobby")}</a>
          <a href="/jobs" aria-current=${route === "jobs" ? "page" : undefined} data-testid="nav-jobs"
            >${t("recruit.jobs")}</a
          >
          ${user.value &&
          html`<a
              href="/applications"
              aria-current=${route === "applications" ? "page" : undefined}
              data-testid="nav-applications"
              >${t("recruit.my_applications")}${unread.value?.notices
                ? html` <span class="badge badge-live" data-testid="nav-unread"
                    aria-label=${plural("recruit.unread_notices", unread.value.notices)}
                    >${unread.value.notices}</span
                  >`
                : null}</a
            >
            <a href="/profile" aria-current=${route === "profile" ? "page" : undefined}
              data-testid="nav-profile">${t("recruit.profile")}</a>`}
          <a href="/projects" data-testid="nav-projects"
            aria-current=${route === "projects" ? "page" : undefined}>${t("dock.nav.projects")}</a>
          ${user.value &&
          html`<a href="/meetings" data-testid="nav-meetings"
            aria-current=${route === "meetings" ? "page" : undefined}>${t("dock.nav.meetings")}</a>`}
          ${mayModerate() &&
          html`<a
            href="/moderate"
            aria-current=${route === "moderate" ? "page" : undefined}
            data-testid="nav-moderate"
            >${t("nav.moderate")}</a
          >`}
          ${(user.value?.staff_of?.length > 0 || user.value?.admin) &&
          html`<a
            href="/console"
            aria-current=${route.startsWith("console") ? "page" : undefined}
            data-testid="nav-console"
            >${t("nav.console")}</a
          >`}
        </nav>
        <div class="header-tools">
          <${SearchBox} />
          <${ConnectionState} />
          <${LanguageSwitcher} />
          <${Bell} />
          <${UserBox} />
        </div>
      </div>
    </header>
  `;
}

function hashHue(text) {
  let hash = 0;
  for (const ch of text) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

export function initials(name) {
  const words = (name || "?").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  // CJK names: the first two characters read better than "first letters of words".
  if (/^[\u3400-\u9fff]/.test(words[0])) return [...words[0]].slice(0, 2).join("");
  const letters = words.slice(0, 2).map((w) => [...w][0].toUpperCase());
  return letters.join("");
}

/** A logo when there is a usable URL, else a coloured initials avatar. */
export function Avatar({ name, url, size = "md" }) {
  const [broken, setBroken] = useState(false);
  const safe = url && /^(https?:\/\/|\/)/i.test(url) && !broken;
  if (safe) {
    return html`<img
      class="avatar avatar-${size}"
      src=${url}
      alt=${t("booth.logo_alt", { name })}
      loading="lazy"
      onError=${() => setBroken(true)}
    />`;
  }
  const hue = hashHue(name || "?");
  return html`<span
    class="avatar avatar-${size} avatar-initials"
    style=${{ "--avatar-hue": hue }}
    aria-hidden="true"
    >${initials(name)}</span
  >`;
}

/** An inline, readable error with an optional retry button. */
export function ErrorBox({ error, onRetry, onDismiss, prefix }) {
  if (!error) return null;
  const text = errorText(error);
  return html`
    <div class="error-box" role="alert" data-testid="error" data-code=${error.code || ""}>
      <span>${prefix ? `${prefix} ` : ""}${text}</span>
      ${onRetry &&
      html`<button type="button" class="button button-small" onClick=${onRetry}>
        ${t("error.retry")}
      </button>`}
      ${onDismiss &&
      html`<button
        type="button"
        class="button button-small button-quiet"
        onClick=${onDismiss}
        aria-label=${t("error.dismiss")}
      >
        ×
      </button>`}
    </div>
  `;
}

export function Loading({ text }) {
  return html`<p class="loading" role="status">${text || t("app.loading")}</p>`;
}

/** Only http(s) links are rendered as links; anything else (javascript:, data:) as text. */
export function safeUrl(url) {
  try {
    const u = new URL(url, window.location.href);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

/** The "page not found" view; it also sets the document title. */
export function NotFound() {
  useEffect(() => {
    document.title = t("notfound.title");
  }, [lang.value]);
  return html`
    <div class="notfound">
      <h1>${t("notfound.title")}</h1>
      <p>${t("notfound.text")}</p>
      <p><a href="/">${t("booth.back")}</a></p>
    </div>
  `;
}

// --- console building blocks (the moderator console; the exhibitor console reuses them) ---------

/**
 * A titled panel: a <section> labelled by its <h2>. `extra` goes to the right of the title;
 * further props (data-testid, data-*) land on the section, `sectionRef` is its ref.
 */
export function Panel({ id, title, class: cls = "", extra, sectionRef, children, ...rest }) {
  return html`
    <section class="panel mod-panel ${cls}" aria-labelledby=${id} ref=${sectionRef} ...${rest}>
      <div class="panel-head">
        <h2 id=${id}>${title}</h2>
        ${extra}
      </div>
      ${children}
    </section>
  `;
}

/** A small number beside a panel title, highlighted while it is not zero. */
export function CountBadge({ count, testid }) {
  return html`<span class="count-badge ${count ? "is-hot" : ""}" data-testid=${testid}>${count}</span>`;
}

/** One short-lived message at the bottom of the screen ("Muted Ada until 14:05"). */
export function useToast() {
  const [toast, setToast] = useState(null);
  const timer = useRef(null);
  const show = useCallback((text, kind = "ok") => {
    clearTimeout(timer.current);
    setToast({ text, kind, id: Date.now() });
    timer.current = setTimeout(() => setToast(null), 6000);
  }, []);
  useEffect(() => () => clearTimeout(timer.current), []);
  return [toast, show, () => setToast(null)];
}

/** The live region that shows the toast of useToast(). */
export function Toast({ toast, onClose }) {
  return html`
    <div class="mod-toast-region" role="status" aria-live="polite" data-testid="mod-toast-region">
      ${toast &&
      html`<div class="mod-toast mod-toast-${toast.kind}" key=${toast.id} data-testid="mod-toast">
        <span>${toast.text}</span>
        <button type="button" class="button button-small button-quiet" onClick=${onClose} aria-label=${t("error.dismiss")}>
          ×
        </button>
      </div>`}
    </div>
  `;
}
