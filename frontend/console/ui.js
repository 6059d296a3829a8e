// Components the console's panels share.

import { html, ErrorBox, Loading } from "../components.js";
import { countryName } from "../i18n.js";

export { html, ErrorBox, Loading };

export function countryOrEmpty(code) {
  return code ? countryName(code) : "";
}

/** A small status line after an action ("Saved."), announced to screen readers. */
export function Done({ text }) {
  if (!text) return null;
  return html`<p class="console-done" role="status" data-testid="console-done">${text}</p>`;
}
