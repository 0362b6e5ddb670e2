// The customer's page in the customer's language. The server picks the
// language (the session's, else its team's, else the browser's) and
// sends its catalog inside customer.html as a JSON block, so the page's
// first paint has its words without another request. Every word the
// page shows comes through t(): a test (static/words_test.go) fails on
// a literal sentence in the page's code.
import { h } from "../vendor/preact.js";
import { signal } from "../vendor/signals.js";

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
  return new Date(at).toLocaleTimeString(lang.value, { hour: "2-digit", minute: "2-digit" });
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// dayLabel is a day separator: today, yesterday, or the date.
export function dayLabel(at, now = new Date()) {
  const d = new Date(at);
  if (sameDay(d, now)) { return t("time.today"); }
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (sameDay(d, y)) { return t("time.yesterday"); }
  const opts = { weekday: "long", day: "numeric", month: "long" };
  if (d.getFullYear() !== now.getFullYear()) { opts.year = "numeric"; }
  return d.toLocaleDateString(lang.value, opts);
}

export function dayKey(at) {
  const d = new Date(at);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

// durationWords says a Go duration ("72h", "1h30m") as a person would.
export function durationWords(s) {
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
  let m;
  while ((m = re.exec(String(s || "")))) {
    ms += Number(m[1]) * { h: 3600e3, m: 60e3, s: 1e3, ms: 1 }[m[2]];
  }
  const min = Math.round(ms / 60e3);
  if (min < 1) { return tn("time.seconds", Math.round(ms / 1e3)); }
  if (min % (60 * 24) === 0 && min >= 60 * 24 * 4) { return tn("time.days", min / (60 * 24)); }
  if (min % 60 === 0) { return tn("time.hours", min / 60); }
  if (min > 60) { return tn("time.hours", Math.floor(min / 60)) + " " + tn("time.minutes", min % 60); }
  return tn("time.minutes", min);
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

export function initials(name) {
  const parts = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) { return "?"; }
  return (parts[0][0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}
