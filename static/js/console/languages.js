// The languages a customer's page speaks, each named in itself, for the
// console's language choices: read once from a catalog's list.
import { signal } from "../ui.js";
import { request } from "../api.js";

export const languages = signal([]);

let asked = false;

// loadLanguages fills languages the first time a form needs them.
export function loadLanguages() {
  if (asked) { return; }
  asked = true;
  request("GET", "/i18n/en.json").then((w) => { languages.value = w.languages || []; }).catch(() => { asked = false; });
}
