// The console's words. The console is in English for now, but no word
// of it is written in its code: each comes from a catalog by key, so a
// translator adds a language by adding a catalog (words.en.js shows the
// form), not by editing the screens. A test (static/words_test.go)
// fails on a literal sentence in the console's code, and on a key the
// catalog lacks. The customer page has catalogs of its own (i18n/), in
// every language: none of these words reach its bundle.
import en from "./words.en.js";

const catalog = en;
const holes = /\{([a-z_]+)\}/g;

// has says whether the catalog has a key (for codes from the server,
// which may be new to this console).
export function has(key) {
  return Object.prototype.hasOwnProperty.call(catalog, key);
}

// w is key's text with each {name} filled from vars; the key itself
// when the catalog lacks it, which the test rules out for literal keys.
export function w(key, vars) {
  const s = has(key) ? catalog[key] : key;
  return vars ? s.replace(holes, (m, n) => (n in vars ? String(vars[n]) : m)) : s;
}

// wx is w for a page's text: each {name} becomes its value as it is
// (an element, a link, a time), so the result is a list of children.
export function wx(key, vars) {
  const s = has(key) ? catalog[key] : key;
  const out = [];
  let last = 0;
  for (const m of s.matchAll(holes)) {
    out.push(s.slice(last, m.index), m[1] in vars ? vars[m[1]] : m[0]);
    last = m.index + m[0].length;
  }
  out.push(s.slice(last));
  return out;
}

// wn is w for a count: key.one or key.other, with {n} filled.
export function wn(key, n, vars) {
  return w(key + (n === 1 ? ".one" : ".other"), { n, ...vars });
}
