// The customer's language switch: each language named in itself, so a
// customer finds theirs whatever the page is in. The choice is kept on
// the session (later messages follow it) and the page changes in place.
import { html, useState } from "./ui.js";
import { request } from "./api.js";
import { t, lang, languages, use } from "./i18n.js";

const token = decodeURIComponent(location.pathname.replace(/^\/c\//, "").replace(/\/+$/, ""));

// switchTo loads the language's catalog (long cached) while the session
// keeps the choice; a link that no longer works still switches the page.
export async function switchTo(code) {
  const [next] = await Promise.all([
    request("GET", "/i18n/" + encodeURIComponent(code) + ".json"),
    request("POST", "/api/customer/language", { language: code }, { Authorization: "Link " + token }).catch(() => null),
  ]);
  use(next);
}

export function LanguagePicker({ onSwitch }) {
  const [busy, setBusy] = useState(false);
  if (languages.length < 2) { return null; }
  const change = async (e) => {
    const el = e.currentTarget;
    const code = el.value;
    setBusy(true);
    try {
      await switchTo(code);
      if (onSwitch) { onSwitch(code); }
    } catch (err) {
      el.value = lang.value;
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="c-lang">
    <label for="c-lang" class="sr-only">${t("language.label")}</label>
    <select id="c-lang" data-testid="language" value=${lang.value} disabled=${busy} onChange=${change}>
      ${languages.map((l) => html`<option key=${l.code} value=${l.code} lang=${l.code}>${l.name}</option>`)}
    </select>
  </span>`;
}
