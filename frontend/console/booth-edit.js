// Booth editing: name, tagline and description per UI language, tags, links, logo.

import { useEffect, useState } from "preact/hooks";
import { html, ErrorBox, Loading, Done } from "./ui.js";
import { t } from "../i18n.js";
import { consoleApi } from "./data.js";

const LABELS = { en: "English", zh: "中文", ru: "Русский", de: "Deutsch" };

export function BoothEditPanel({ booth }) {
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [logoError, setLogoError] = useState(null);
  const [logoUrl, setLogoUrl] = useState("");
  useEffect(() => {
    consoleApi.texts(booth.id, "en").then((d) => {
      const texts = {};
      for (const code of d.languages) texts[code] = { name: "", tagline: "", description: "", ...(d.texts[code] || {}) };
      setForm({ languages: d.languages, texts, tags: d.tags.join(", "),
        links: d.links.map((l) => `${l.label} ${l.url}`).join("\n") });
      setLogoUrl(d.logo_url);
    }, setError);
  }, [booth.id]);
  if (!form) return error ? html`<${ErrorBox} error=${error} />` : html`<${Loading} />`;
  const set = (code, key, value) =>
    setForm((f) => ({ ...f, texts: { ...f.texts, [code]: { ...f.texts[code], [key]: value } } }));
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    const texts = {};
    for (const [code, v] of Object.entries(form.texts)) {
      if (v.name || v.tagline || v.description) texts[code] = v;
    }
    const links = form.links.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
      const at = line.lastIndexOf(" ");
      return at > 0 ? { label: line.slice(0, at).trim(), url: line.slice(at + 1) } : { label: line, url: line };
    });
    const tags = form.tags.split(",").map((s) => s.trim()).filter(Boolean);
    try {
      await consoleApi.saveTexts(booth.id, { texts, tags, links });
      setDone(t("console.saved"));
    } catch (err) {
      setError(err);
    }
  };
  const uploadLogo = async (e) => {
    const file = e.currentTarget.files?.[0];
    if (!file) return;
    setLogoError(null);
    try {
      const res = await consoleApi.logo(booth.id, file);
      setLogoUrl(res.logo_url);
    } catch (err) {
      setLogoError(err);
    }
    e.currentTarget.value = "";
  };
  return html`
    <section class="panel console-edit" aria-labelledby="edit-title">
      <h2 id="edit-title">${t("console.tab.booth")}</h2>
      <form onSubmit=${save} data-testid="booth-edit">
        ${form.languages.map((code) => html`<fieldset class="console-lang" lang=${code}>
          <legend>${LABELS[code] || code}${code === "en" ? ` (${t("console.required")})` : ""}</legend>
          <label>${t("console.field.name")}
            <input type="text" maxlength="160" value=${form.texts[code].name} data-testid=${`name-${code}`}
              onInput=${(e) => set(code, "name", e.currentTarget.value)} /></label>
          <label>${t("console.field.tagline")}
            <input type="text" maxlength="300" value=${form.texts[code].tagline} data-testid=${`tagline-${code}`}
              onInput=${(e) => set(code, "tagline", e.currentTarget.value)} /></label>
          <label>${t("console.field.description")}
            <textarea rows="4" maxlength="5000" data-testid=${`description-${code}`}
              value=${form.texts[code].description}
              onInput=${(e) => set(code, "description", e.currentTarget.value)}></textarea></label>
        </fieldset>`)}
        <label>${t("console.field.tags")}
          <input type="text" value=${form.tags} data-testid="tags"
            onInput=${(e) => setForm({ ...form, tags: e.currentTarget.value })} /></label>
        <label>${t("console.field.links")}
          <textarea rows="3" data-testid="links" value=${form.links}
            onInput=${(e) => setForm({ ...form, links: e.currentTarget.value })}></textarea></label>
        <button type="submit" class="button">${t("console.save")}</button>
        <${ErrorBox} error=${error} />
        <${Done} text=${done} />
      </form>
      <h3 class="sub">${t("console.logo")}</h3>
      ${logoUrl && html`<img class="console-logo" src=${logoUrl} alt=${t("console.logo")} />`}
      <label>${t("console.logo_pick")}
        <input type="file" accept="image/png,image/jpeg,image/gif,image/webp" data-testid="logo-file"
          onChange=${uploadLogo} /></label>
      <${ErrorBox} error=${logoError} />
    </section>
  `;
}
