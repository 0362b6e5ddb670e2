// Everything a person reads that the server gives as a code: indicator
// states, gates, end-access modes, durations, times and errors, in plain
// words.
import { w, wn } from "./console/catalog.js";
import { clockIn, dayLabelIn, dayKey, initials, parseDuration, sameDay, spanWords } from "./times.js";

// table is a code → words table whose words are read from the catalog
// when used; pure, so the customer's bundle, which reads none of them,
// drops the console's catalog with it.
function table(prefix, codes, fields) {
  const t = {};
  for (const c of codes) {
    const key = prefix + "." + c;
    const value = fields ? () => Object.fromEntries(fields.map((f) => [f, w(key + "." + f)])) : () => w(key);
    Object.defineProperty(t, c, { get: value, enumerable: true });
  }
  return t;
}

export const STATES = /* @__PURE__ */ table("state", ["never_joined", "online_incomplete", "offline_incomplete", "online_completed", "offline_completed"], ["label", "hint"]);

export function stateLabel(state) {
  return (STATES[state] || STATES.never_joined).label;
}

// NO_TASKS are the words of the incomplete states while nothing is
// assigned: nothing is left to do yet.
const NO_TASKS = /* @__PURE__ */ table("no_tasks", ["online_incomplete", "offline_incomplete"], ["label", "hint"]);

// GATE_STEP names the check a customer who opened their link is at, by
// the session's method of authentication.
const GATE_STEP = /* @__PURE__ */ table("gate_step", ["pin", "otp"]);

// indicatorWords are the label and hint of an indicator, as it stands:
// a customer who opened their link but is not in yet is "at the gate"
// (at which step, when the method is known), not "never joined".
export function indicatorWords(ind, method) {
  if (ind && ind.state === "never_joined" && ind.opened) {
    const step = ind.gate === "authentication" ? GATE_STEP[method] || w("words.the_identity_check")
      : ind.gate === "consent" ? w("words.the_consent_step") : "";
    return step ? { label: w("words.at", { step }), hint: w("words.opened_the_link_not") }
      : { label: w("words.opened_the_link"), hint: w("words.through_the_checks_not") };
  }
  if (ind && ind.tasks === 0 && NO_TASKS[ind.state]) { return NO_TASKS[ind.state]; }
  return STATES[ind && ind.state] || STATES.never_joined;
}

export const AUTH = /* @__PURE__ */ table("auth", ["not_required", "pending", "verified", "locked"]);

export const CONSENT = /* @__PURE__ */ table("consent", ["not_requested", "pending", "accepted", "declined"]);

export const AUTH_METHOD = /* @__PURE__ */ table("auth_method", ["none", "otp", "pin"]);

export const SESSION_STATE = /* @__PURE__ */ table("session_state", ["planned", "active", "ended"]);

export const TASK_KINDS = /* @__PURE__ */ table("task_kind", ["sign", "form", "consent", "upload", "custom"]);

// durationWords says a duration as a person would: "72 hours", "7 days",
// "1 hour 30 minutes".
export function durationWords(s) {
  const ms = typeof s === "number" ? s : parseDuration(s);
  if (ms <= 0) { return w("words.no_time"); }
  return spanWords(ms, (unit, n) => ({
    seconds: () => wn("words.seconds", n), minutes: () => wn("words.minutes", n),
    hours: () => wn("words.hours", n), days: () => wn("words.days", n),
  })[unit]());
}

// endAccessWords says what a customer keeps after an end.
export function endAccessWords(access, who = w("words.the_customer")) {
  if (!access) { return ""; }
  const d = durationWords(access.duration);
  switch (access.mode) {
  case "none": return w("words.loses_access_at_once", { who });
  case "full": return w("words.keeps_full_access_they", { who });
  case "full_for": return w("words.keeps_full_access_for", { who, d });
  case "limited_for": return w("words.keeps_read_only_access", { who, d });
  }
  return "";
}

// endAccessShort is the same in a few words, for a menu.
export function endAccessShort(access, who = w("words.the_customer")) {
  if (!access) { return ""; }
  const d = durationWords(access.duration);
  switch (access.mode) {
  case "none": return w("words.loses_access_at_once_b", { who });
  case "full": return w("words.keeps_full_access", { who });
  case "full_for": return w("words.keeps_full_access_for_b", { who, d });
  case "limited_for": return w("words.keeps_read_only_access_b", { who, d });
  }
  return "";
}

export const END_MODES = /* @__PURE__ */ table("end_mode", ["none", "full", "full_for", "limited_for"]);

// Times ---------------------------------------------------------------

export function clock(t) {
  return clockIn(t, []);
}

// dayLabel is a day separator: "Today", "Yesterday", "Monday 3 March".
export function dayLabel(t, now = new Date()) {
  return dayLabelIn(t, now, [], w("words.today"), w("words.yesterday"));
}

export { dayKey, initials, parseDuration };

// ago is a short relative time: "now", "2 min", "3 h", "Yesterday", "Mon", "3 Mar".
export function ago(t, now = Date.now()) {
  if (!t) { return ""; }
  const d = new Date(t);
  const s = Math.max(0, (now - d.getTime()) / 1000);
  if (s < 45) { return "now"; }
  if (s < 3600) { return w("words.min_ago", { value: Math.round(s / 60) }); }
  if (s < 6 * 3600) { return w("words.h_ago", { value: Math.round(s / 3600) }); }
  const n = new Date(now);
  if (sameDay(d, n)) { return clock(d); }
  const y = new Date(n);
  y.setDate(n.getDate() - 1);
  if (sameDay(d, y)) { return w("words.yesterday"); }
  if (s < 6 * 86400) { return d.toLocaleDateString([], { weekday: "short" }); }
  return d.toLocaleDateString([], { day: "numeric", month: "short" });
}

// when is a full date and time, for titles and hover cards.
export function when(t) {
  if (!t) { return ""; }
  const d = new Date(t);
  const now = new Date();
  const time = clock(d);
  if (sameDay(d, now)) { return w("words.today_at", { time }); }
  return w("words.at_b", { value: d.toLocaleDateString([], { day: "numeric", month: "short", year: d.getFullYear() === now.getFullYear() ? undefined : "numeric" }), time });
}

// Errors ---------------------------------------------------------------

const PLAIN = /* @__PURE__ */ table("error", ["network", "disconnected", "unauthenticated", "forbidden", "password_sign_in_off", "email_unverified", "no_account", "not_found", "customer_already_joined", "email_taken", "sms_disabled", "link_expired", "link_revoked", "session_ended", "rate_limited", "overloaded", "backend_unavailable", "busy", "room_full", "conflict", "read_only", "body_too_large", "internal", "validation_failed", "file_too_large", "unsupported_type", "invalid_document", "malformed_upload", "asset_deleted", "invalid_state", "malformed_json", "method_not_allowed", "not_joined", "too_many_topics", "bad_frame", "unknown_op"]);

function sentence(s) {
  s = String(s || "").trim();
  if (!s) { return ""; }
  s = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(s) ? s : s + ".";
}

// plainError turns an API or live error into one sentence a person can act on.
export function plainError(err) {
  if (!err) { return ""; }
  const code = err.code || (err.data && err.data.code);
  const message = err.message || (err.data && err.data.message) || "";
  if (code === "invalid_state" || code === "read_only") {
    // The server explains which state stands in the way.
    const why = message.replace(/^invalid state:\s*/i, "").replace(/^read only:\s*/i, "");
    return sentence(why) || PLAIN[code];
  }
  return PLAIN[code] || sentence(message) || PLAIN.internal;
}

// FIELD_WORDS rewrite the API's field messages for the forms that show them.
const FIELD_WORDS = {
  "customer.email": (msg, value) => (value && !String(value).includes("@")
    ? w("words.this_email_address_has")
    : w("words.this_does_not_look")),
  "customer.phone": () => w("words.enter_a_phone_number"),
  "customer.name": () => w("words.keep_the_name_under"),
  "settings_team_id": () => w("words.you_may_not_use"),
};

// fieldError is the message to show next to a field.
export function fieldError(path, msg, value) {
  const f = FIELD_WORDS[path];
  if (f) { return f(msg, value); }
  if (/^is required/.test(msg)) { return w("words.this_is_required"); }
  return sentence(msg);
}

// Names ------------------------------------------------------------------

// customerName is how a session's customer is called on screen.
export function customerName(c) {
  if (!c) { return ""; }
  return c.name || c.email || c.phone_display || phoneWords(c.phone) || w("words.customer");
}

export function firstName(c, nameless = w("words.the_customer")) {
  const n = (c && c.name) || "";
  return n ? n.split(/\s+/)[0] : nameless;
}

// midName is firstName inside a sentence: "the customer" when nameless.
export const midName = (c) => firstName(c, w("words.the_customer_b"));

// phoneWords groups a North American E.164 number as people write it
// (+1 415 555 0123); other numbers stay as they are.
export function phoneWords(p) {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(p || "");
  return m ? `+1 ${m[1]} ${m[2]} ${m[3]}` : p || "";
}

export function contactOf(c) {
  if (!c) { return ""; }
  return [c.email, c.phone_display || phoneWords(c.phone)].filter(Boolean).join(" · ");
}
