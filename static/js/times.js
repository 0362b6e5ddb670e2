// Times and durations in whichever words a page speaks: the customer's
// page gives its catalog's (i18n.js), the console its own (words.js).
// Nothing here is a word.

// parseDuration reads Go duration syntax ("72h", "1h30m", "45s") into ms.
export function parseDuration(s) {
  if (!s) { return 0; }
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
  let m;
  while ((m = re.exec(String(s)))) {
    ms += Number(m[1]) * { h: 3600e3, m: 60e3, s: 1e3, ms: 1 }[m[2]];
  }
  return ms;
}

// spanWords says ms as a person would ("72 hours", "7 days", "1 hour 30
// minutes"), say(unit, n) wording each part (unit: seconds, minutes,
// hours, days).
export function spanWords(ms, say) {
  const min = Math.round(ms / 60e3);
  if (min < 1) { return say("seconds", Math.round(ms / 1e3)); }
  if (min % (60 * 24) === 0 && min >= 60 * 24 * 4) { return say("days", min / (60 * 24)); }
  if (min % 60 === 0) { return say("hours", min / 60); }
  if (min > 60) { return `${say("hours", Math.floor(min / 60))} ${say("minutes", min % 60)}`; }
  return say("minutes", min);
}

// clockIn is a time of day in locale ([]: the browser's).
export function clockIn(at, locale) {
  return new Date(at).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
}

export function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// dayLabelIn is a day separator: today's and yesterday's words, else the
// date in locale.
export function dayLabelIn(at, now, locale, today, yesterday) {
  const d = new Date(at);
  if (sameDay(d, now)) { return today; }
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (sameDay(d, y)) { return yesterday; }
  const opts = { weekday: "long", day: "numeric", month: "long" };
  if (d.getFullYear() !== now.getFullYear()) { opts.year = "numeric"; }
  return d.toLocaleDateString(locale, opts);
}

export function dayKey(at) {
  const d = new Date(at);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

export function initials(name) {
  const parts = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) { return "?"; }
  return (parts[0][0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}
