// The header's catalogue search: answers as the user types (debounced; a newer keystroke
// aborts the request still in flight), with the result count, kind facets and marked snippets
// from GET /api/search. Snippets arrive HTML-escaped with only <mark> added by the server.

import { h } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import { t, plural } from "../i18n.js";
import { request } from "../api.js";

const html = htm.bind(h);
export const DEBOUNCE_MS = 200;

const HREF = {
  booth: (hit) => `/booth/${hit.id}`,
  job: (hit) => `/job/${hit.id}`,
  project: (hit) => `/projects?project=${hit.id}`,
  resume: (hit) => `/users/${hit.id}/resume`,
};

export function SearchBox() {
  const [q, setQ] = useState("");
  const [kind, setKind] = useState("");
  const [page, setPage] = useState(null);
  const [failed, setFailed] = useState(false);
  const inflight = useRef(null);

  useEffect(() => {
    const text = q.trim();
    if (!text) {
      setPage(null);
      return undefined;
    }
    const timer = setTimeout(async () => {
      inflight.current?.abort();
      const controller = new AbortController();
      inflight.current = controller;
      const params = new URLSearchParams({ q: text, limit: "8" });
      if (kind) params.set("kind", kind);
      try {
        const answer = await request("GET", `/api/search?${params}`, undefined, {
          signal: controller.signal,
        });
        if (inflight.current === controller) {
          setPage(answer);
          setFailed(false);
        }
      } catch (err) {
        if (err.name !== "AbortError") setFailed(true);
      }
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [q, kind]);

  useEffect(() => () => inflight.current?.abort(), []);

  return html`
    <div class="catalogue-search" role="search">
      <label>
        <span class="visually-hidden">${t("search.label")}</span>
        <input
          type="search"
          value=${q}
          placeholder=${t("search.placeholder")}
          onInput=${(e) => setQ(e.currentTarget.value)}
          onKeyDown=${(e) => e.key === "Escape" && setQ("")}
          data-testid="catalogue-search"
          aria-controls="catalogue-search-results"
        />
      </label>
      ${failed && html`<p class="error" role="alert">${t("search.failed")}</p>`}
      ${page &&
      html`<div id="catalogue-search-results" class="catalogue-search-results">
        <p aria-live="polite" data-testid="catalogue-search-count">
          ${plural("search.count", page.count)}${page.typo ? ` · ${t("search.typo")}` : ""}
        </p>
        <div class="catalogue-search-facets">
          <button type="button" aria-pressed=${!kind} onClick=${() => setKind("")}>
            ${t("search.kind.all")}
          </button>
          ${Object.entries(page.facets.kind || {}).map(
            ([name, n]) => html`<button
              type="button"
              aria-pressed=${kind === name}
              onClick=${() => setKind(kind === name ? "" : name)}
            >
              ${t(`search.kind.${name}`)} (${n})
            </button>`,
          )}
        </div>
        <ul data-testid="catalogue-search-results">
          ${page.results.map(
            (hit) => html`<li key=${`${hit.kind}-${hit.id}`}>
              <a href=${HREF[hit.kind](hit)}>
                <span class="badge">${t(`search.kind.${hit.kind}`)}</span>
                <strong dangerouslySetInnerHTML=${{ __html: hit.title_html }}></strong>
              </a>
              <div class="snippet" dangerouslySetInnerHTML=${{ __html: hit.snippet_html }}></div>
            </li>`,
          )}
        </ul>
      </div>`}
    </div>
  `;
}
