// The login page (/login): an account login form and a guest entry form.

import { useEffect, useState } from "preact/hooks";
import { html, ErrorBox } from "./components.js";
import { t, lang } from "./i18n.js";
import { api } from "./api.js";
import { user, setUser } from "./store.js";
import { location$, navigate, safeNext } from "./router.js";

function nextTarget() {
  return safeNext(new URLSearchParams(location$.value.search).get("next"));
}

function useSubmit(action) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function submit(...args) {
    setBusy(true);
    setError(null);
    try {
      const data = await action(...args);
      setUser(data.user);
      navigate(nextTarget(), { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return { busy, error, submit };
}

function AccountForm() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, submit } = useSubmit(api.login);
  return html`
    <form
      class="panel form-card"
      aria-labelledby="login-title"
      onSubmit=${(e) => {
        e.preventDefault();
        submit(username.trim(), password);
      }}
    >
      <h2 id="login-title">${t("login.account")}</h2>
      <label class="field">
        <span class="field-label">${t("login.username")}</span>
        <input
          name="username"
          autocomplete="username"
          required
          value=${username}
          onInput=${(e) => setUsername(e.currentTarget.value)}
          data-testid="login-username"
        />
      </label>
      <label class="field">
        <span class="field-label">${t("login.password")}</span>
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value=${password}
          onInput=${(e) => setPassword(e.currentTarget.value)}
          data-testid="login-password"
        />
      </label>
      <${ErrorBox} error=${error} />
      <button type="submit" class="button" disabled=${busy} data-testid="login-submit">
        ${busy ? t("login.working") : t("login.submit")}
      </button>
    </form>
  `;
}

function GuestForm() {
  const [name, setName] = useState("");
  const { busy, error, submit } = useSubmit(api.guest);
  return html`
    <form
      class="panel form-card"
      aria-labelledby="guest-title"
      onSubmit=${(e) => {
        e.preventDefault();
        submit(name.trim());
      }}
    >
      <h2 id="guest-title">${t("login.guest")}</h2>
      <label class="field">
        <span class="field-label">${t("login.guest_name")}</span>
        <input
          name="name"
          autocomplete="nickname"
          required
          maxlength="40"
          value=${name}
          onInput=${(e) => setName(e.currentTarget.value)}
          aria-describedby="guest-hint"
          data-testid="guest-name"
        />
      </label>
      <p id="guest-hint" class="muted small">${t("login.guest_hint")}</p>
      <${ErrorBox} error=${error} />
      <button type="submit" class="button button-secondary" disabled=${busy} data-testid="guest-submit">
        ${busy ? t("login.working") : t("login.guest_submit")}
      </button>
    </form>
  `;
}

export function LoginPage() {
  const me = user.value;
  useEffect(() => {
    document.title = t("login.title");
  }, [lang.value]);
  return html`
    <div class="login">
      <h1>${t("login.title")}</h1>
      ${me
        ? html`<p>
            ${t("login.already", { name: me.name })}
            <a class="button button-small" href=${nextTarget()}>${t("login.continue")}</a>
          </p>`
        : html`<p class="muted">${t("login.intro")}</p>
            <div class="login-grid">
              <${AccountForm} />
              <${GuestForm} />
            </div>`}
    </div>
  `;
}
