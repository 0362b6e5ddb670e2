// The customer's page in the customer's language. The server picks the
// language (the session's, else its team's, else the browser's) and
// sends its catalog inside customer.html as a JSON block, so the page's
// first paint has its words without another request. Every word the
// page shows comes through t(): a test (static/words_test.go) fails on
// a literal sentence in the page's code.
import { h } from "../vendor/preact.js";
import { signal } from "../vendor/signals.js";
import { clockIn, dayLabelIn, dayKey, initials, parseDuration, spanWords } from "./times.js";

function boot() {
  const el = document.getElementById("i18n");
  try {
    return JSON.parse(el.textContent);
  } catch (e) {
    return { lang: "en", dir: "ltr", languages: [], catalog: {} };
  }
}

const first = boot();
export const lang = signal(first.lang);
export const languages = first.languages || [];
const catalog = signal(first.catalog || {});

// t is key's text with each {name} filled from vars (the key itself
// when the catalog lacks it, which the catalogs' test rules out).
export function t(key, vars) {
  const s = catalog.value[key];
  if (s === undefined) { return key; }
  return vars ? s.replace(/\{([a-z_]+)\}/g, (m, n) => (n in vars ? String(vars[n]) : m)) : s;
}

// tIsolated is t with each value set apart from the sentence's
// direction (<bdi>): an email or a masked phone number inside a Hebrew
// sentence reads as written.
export function tIsolated(key, vars) {
  const s = t(key);
  const out = [];
  let last = 0;
  for (const m of s.matchAll(/\{([a-z_]+)\}/g)) {
    out.push(s.slice(last, m.index), m[1] in vars ? h("bdi", { dir: "ltr" }, String(vars[m[1]])) : m[0]);
    last = m.index + m[0].length;
  }
  out.push(s.slice(last));
  return out;
}

// tn is t for a count: key.one or key.other by the language's plural
// rules, with {n} filled.
export function tn(key, n, vars) {
  const one = new Intl.PluralRules(lang.value).select(n) === "one";
  return t(key + (one ? ".one" : ".other"), { n, ...vars });
}

// use switches the page to another language's catalog, as it stands.
export function use(next) {
  document.documentElement.lang = next.lang;
  document.documentElement.dir = next.dir;
  document.title = next.catalog["page.title"] || document.title;
  catalog.value = next.catalog;
  lang.value = next.lang;
}

// Times, in the customer's language and their device's time zone.

export function clock(at) {
  return clockIn(at, lang.value);
}

// dayLabel is a day separator: today, yesterday, or the date.
export function dayLabel(at, now = new Date()) {
  return dayLabelIn(at, now, lang.value, t("time.today"), t("time.yesterday"));
}

export { dayKey, initials };

// durationWords says a Go duration ("72h", "1h30m") as a person would.
export function durationWords(s) {
  return spanWords(parseDuration(String(s || "")), (unit, n) => ({
    seconds: () => tn("time.seconds", n), minutes: () => tn("time.minutes", n),
    hours: () => tn("time.hours", n), days: () => tn("time.days", n),
  })[unit]());
}

// plainError is an API or live error as one sentence in the customer's
// language: the catalog's text for its code, else the server's message
// (which the server gives in the customer's language too).
export function plainError(err) {
  if (!err) { return ""; }
  const code = err.code || (err.data && err.data.code) || "internal";
  const message = err.message || (err.data && err.data.message) || "";
  const key = "error." + code;
  const s = t(key);
  return s !== key ? s : message || t("error.internal");
}
