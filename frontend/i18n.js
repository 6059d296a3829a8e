// The UI's languages, the current one, and the text lookup.
//
// The texts live in i18n/<code>.js, one file per language, all with the same keys (a test
// checks it: tests/browser/test_i18n_browser.py). t("key", {name: "Ada"}) looks a key up in the
// current language, falls back to English, and fills {name}-style placeholders; a count phrase
// goes through plural("key", n), which picks the form for n by Intl.PluralRules. Reading
// `lang.value` inside both makes every component that renders text re-render when the language
// changes.

import { signal, effect } from "@preact/signals";
import en from "./i18n/en.js";
import zh from "./i18n/zh-Hans.js";
import ru from "./i18n/ru.js";
import de from "./i18n/de.js";

const STORAGE_KEY = "hallserver.lang";

/** The languages of the picker, in its order; `code` is a BCP 47 tag (also <html lang>). */
export const LANGUAGES = [
  { code: "en", label: "English" },
  { code: "zh-Hans", label: "简体中文" },
  { code: "ru", label: "Русский" },
  { code: "de", label: "Deutsch" },
];

const TABLES = { en, "zh-Hans": zh, ru, de };

/** The language of a browser's tag ("de-AT" -> "de", "zh-CN" -> "zh-Hans"), or null. */
export function matchLanguage(tag) {
  if (!tag) return null;
  const primary = tag.toLowerCase().split(/[-_]/)[0];
  if (primary === "zh") return "zh-Hans";
  return LANGUAGES.some((l) => l.code === primary) ? primary : null;
}

function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && TABLES[saved]) return saved;
  } catch {
    /* storage may be unavailable (privacy mode) */
  }
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const tag of preferred) {
    const code = matchLanguage(tag);
    if (code) return code;
  }
  return "en";
}

/** The current language code, one of LANGUAGES: the saved choice, else the browser's, else English. */
export const lang = signal(initialLanguage());

effect(() => {
  document.documentElement.lang = lang.value;
});

export function setLanguage(code) {
  if (!TABLES[code]) return;
  lang.value = code;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    /* ignore */
  }
}

export function isChinese() {
  return lang.value === "zh-Hans";
}

function fill(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

function lookup(key) {
  const table = TABLES[lang.value] || en;
  const text = table[key] ?? en[key];
  if (text === undefined) console.warn(`hallserver: missing translation ${key}`);
  return text;
}

const pluralRules = new Map();

/** The plural category of `n` in language `code` ("one", "few", "many", "other"...). */
export function pluralCategory(n, code = lang.value) {
  let rules = pluralRules.get(code);
  if (!rules) {
    rules = new Intl.PluralRules(code);
    pluralRules.set(code, rules);
  }
  return rules.select(n);
}

/** `n` written the current language's way (1,000 · 1.000 · 1 000). */
export function formatNumber(n) {
  return new Intl.NumberFormat(lang.value).format(n);
}

/**
 * Translate `key`, filling {placeholders} from `params`. Count phrases (objects of plural
 * forms in the tables) belong to plural(); given one, t() hands it `params.n`.
 */
export function t(key, params) {
  const text = lookup(key);
  if (text === undefined) return key;
  if (typeof text === "object") return plural(key, params?.n ?? 0, params);
  return fill(text, params);
}

/**
 * The count phrase `key` for the number `n`: the form of n's plural category in the current
 * language (Intl.PluralRules), with {n} filled in as a formatted number and any other
 * placeholders from `params`. Every phrase that counts something goes through here.
 */
export function plural(key, n, params) {
  const forms = lookup(key);
  if (forms === undefined) return key;
  if (typeof forms === "string") return fill(forms, { ...params, n: formatNumber(n) });
  const text = forms[pluralCategory(n)] ?? forms.other;
  return fill(text, { ...params, n: formatNumber(n) });
}

/** Whether a translation exists for `key` (in English at least). */
export function hasText(key) {
  return key in en;
}

/** The name of a hall or booth in the current language (name_zh when Chinese and set). */
export function localName(obj) {
  if (!obj) return "";
  if (isChinese() && obj.name_zh) return obj.name_zh;
  return obj.name || "";
}

/** A readable, translated message for an error (ProtocolError, ApiError or anything else). */
export function errorText(err) {
  if (!err) return "";
  if (err.code && hasText(`error.${err.code}`)) return t(`error.${err.code}`);
  if (err.status) return t("error.http", { status: err.status });
  return t("error.generic", { message: err.message || String(err) });
}

/** Country name for an ISO 3166-1 alpha-2 code, in the current language. */
export function countryName(code) {
  if (!code) return "";
  try {
    const names = new Intl.DisplayNames([lang.value], { type: "region" });
    return names.of(code.toUpperCase()) || code;
  } catch {
    return code;
  }
}

export function formatTime(unixSeconds) {
  const d = new Date(unixSeconds * 1000);
  return new Intl.DateTimeFormat(lang.value, { hour: "2-digit", minute: "2-digit" }).format(d);
}

export function formatDateTime(value) {
  const d = value instanceof Date ? value : new Date(value);
  return new Intl.DateTimeFormat(lang.value, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  }).format(d);
}

export function formatClock(value) {
  const d = value instanceof Date ? value : new Date(value);
  return new Intl.DateTimeFormat(lang.value, { hour: "2-digit", minute: "2-digit" }).format(d);
}

/** Every language's table, for the consistency check in tests. */
export const _tables = TABLES;
