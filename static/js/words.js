// Everything a person reads that the server gives as a code: indicator
// states, gates, end-access modes, durations, times and errors, in plain
// words.

export const STATES = {
  never_joined: { label: "Never joined", hint: "has not joined the room yet" },
  online_incomplete: { label: "Online · tasks to do", hint: "in the room now, tasks left" },
  offline_incomplete: { label: "Offline · tasks to do", hint: "left the room, tasks left" },
  online_completed: { label: "Online · done", hint: "in the room now, every task done" },
  offline_completed: { label: "Offline · done", hint: "left the room, every task done" },
};

export function stateLabel(state) {
  return (STATES[state] || STATES.never_joined).label;
}

// NO_TASKS are the words of the incomplete states while nothing is
// assigned: nothing is left to do yet.
const NO_TASKS = {
  online_incomplete: { label: "Online", hint: "in the room now, no task yet" },
  offline_incomplete: { label: "Offline", hint: "left the room, no task yet" },
};

// GATE_STEP names the check a customer who opened their link is at, by
// the session's method of authentication.
const GATE_STEP = { pin: "the PIN step", otp: "the code step" };

// indicatorWords are the label and hint of an indicator, as it stands:
// a customer who opened their link but is not in yet is "at the gate"
// (at which step, when the method is known), not "never joined".
export function indicatorWords(ind, method) {
  if (ind && ind.state === "never_joined" && ind.opened) {
    const step = ind.gate === "authentication" ? GATE_STEP[method] || "the identity check"
      : ind.gate === "consent" ? "the consent step" : "";
    return step ? { label: `At ${step}`, hint: "opened the link, not through the checks yet" }
      : { label: "Opened the link", hint: "through the checks, not in the room yet" };
  }
  if (ind && ind.tasks === 0 && NO_TASKS[ind.state]) { return NO_TASKS[ind.state]; }
  return STATES[ind && ind.state] || STATES.never_joined;
}

export const AUTH = {
  not_required: "Not asked",
  pending: "Not yet verified",
  verified: "Verified",
  locked: "Locked after wrong answers",
};

export const CONSENT = {
  not_requested: "Not asked",
  pending: "Not yet given",
  accepted: "Accepted",
  declined: "Declined",
};

export const AUTH_METHOD = { none: "none", otp: "a one-time code", pin: "a PIN" };

export const SESSION_STATE = { planned: "Planned", active: "Active", ended: "Ended" };

export const TASK_KINDS = {
  sign: "Sign a document",
  form: "Fill in a form",
  consent: "Give consent",
  upload: "Upload a document or photo",
  custom: "Something else",
};

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

function plural(n, one, many) { return `${n} ${n === 1 ? one : many}`; }

// durationWords says a duration as a person would: "72 hours", "7 days",
// "1 hour 30 minutes".
export function durationWords(s) {
  const ms = typeof s === "number" ? s : parseDuration(s);
  if (ms <= 0) { return "no time"; }
  const min = Math.round(ms / 60e3);
  if (min < 1) { return plural(Math.round(ms / 1e3), "second", "seconds"); }
  if (min % (60 * 24) === 0 && min >= 60 * 24 * 4) { return plural(min / (60 * 24), "day", "days"); }
  if (min % 60 === 0) { return plural(min / 60, "hour", "hours"); }
  if (min > 60) { return `${plural(Math.floor(min / 60), "hour", "hours")} ${plural(min % 60, "minute", "minutes")}`; }
  return plural(min, "minute", "minutes");
}

// endAccessWords says what a customer keeps after an end.
export function endAccessWords(access, who = "The customer") {
  if (!access) { return ""; }
  const d = durationWords(access.duration);
  switch (access.mode) {
  case "none": return `${who} loses access at once: their link stops working.`;
  case "full": return `${who} keeps full access: they can still write and complete tasks.`;
  case "full_for": return `${who} keeps full access for ${d}: they can still write and complete tasks.`;
  case "limited_for": return `${who} keeps read-only access for ${d}: they can read the conversation and completed tasks, but not write.`;
  }
  return "";
}

// endAccessShort is the same in a few words, for a menu.
export function endAccessShort(access, who = "The customer") {
  if (!access) { return ""; }
  const d = durationWords(access.duration);
  switch (access.mode) {
  case "none": return `${who} loses access at once`;
  case "full": return `${who} keeps full access`;
  case "full_for": return `${who} keeps full access for ${d}`;
  case "limited_for": return `${who} keeps read-only access for ${d}`;
  }
  return "";
}

export const END_MODES = {
  none: "Nothing: the link stops working at once",
  full: "Full access, with no end",
  full_for: "Full access for a while",
  limited_for: "Read-only access for a while",
};

// Times ---------------------------------------------------------------

export function clock(t) {
  return new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// dayLabel is a day separator: "Today", "Yesterday", "Monday 3 March".
export function dayLabel(t, now = new Date()) {
  const d = new Date(t);
  if (sameDay(d, now)) { return "Today"; }
  const y = new Date(now);
  y.setDate(now.getDate() - 1);
  if (sameDay(d, y)) { return "Yesterday"; }
  const opts = { weekday: "long", day: "numeric", month: "long" };
  if (d.getFullYear() !== now.getFullYear()) { opts.year = "numeric"; }
  return d.toLocaleDateString([], opts);
}

export function dayKey(t) {
  const d = new Date(t);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

// ago is a short relative time: "now", "2 min", "3 h", "Yesterday", "Mon", "3 Mar".
export function ago(t, now = Date.now()) {
  if (!t) { return ""; }
  const d = new Date(t);
  const s = Math.max(0, (now - d.getTime()) / 1000);
  if (s < 45) { return "now"; }
  if (s < 3600) { return `${Math.round(s / 60)} min ago`; }
  if (s < 6 * 3600) { return `${Math.round(s / 3600)} h ago`; }
  const n = new Date(now);
  if (sameDay(d, n)) { return clock(d); }
  const y = new Date(n);
  y.setDate(n.getDate() - 1);
  if (sameDay(d, y)) { return "Yesterday"; }
  if (s < 6 * 86400) { return d.toLocaleDateString([], { weekday: "short" }); }
  return d.toLocaleDateString([], { day: "numeric", month: "short" });
}

// when is a full date and time, for titles and hover cards.
export function when(t) {
  if (!t) { return ""; }
  const d = new Date(t);
  const now = new Date();
  const time = clock(d);
  if (sameDay(d, now)) { return `today at ${time}`; }
  return `${d.toLocaleDateString([], { day: "numeric", month: "short", year: d.getFullYear() === now.getFullYear() ? undefined : "numeric" })} at ${time}`;
}

// Errors ---------------------------------------------------------------

const PLAIN = {
  network: "Cohub cannot be reached. Check your connection and try again.",
  disconnected: "You are offline. It will be sent when the connection is back.",
  unauthenticated: "Your sign-in has ended. Please sign in again.",
  forbidden: "You do not have access to this.",
  password_sign_in_off: "Your organisation signs you in with single sign-on. Use the single sign-on button instead of a password.",
  email_unverified: "Your sign-in provider has not verified your email address, so Cohub cannot tell it is yours. Verify it with the provider, then try again.",
  no_account: "No Cohub account has this email address. Ask your administrator to add you.",
  not_found: "This no longer exists, or you cannot see it.",
  customer_already_joined: "The customer has already joined, so their contact details can no longer change.",
  email_taken: "Another account already uses this email.",
  sms_disabled: "Text-message invitations are turned off for your organisation. Invite by email instead.",
  link_expired: "This link has expired.",
  link_revoked: "This link has been replaced by a newer one.",
  session_ended: "This session has ended.",
  rate_limited: "That was too many tries in a short time. Please wait a moment and try again.",
  overloaded: "Cohub is busy. Trying again shortly.",
  backend_unavailable: "Cohub cannot reach its storage right now. Please try again in a moment.",
  busy: "Cohub is busy with other files right now. Please try again in a moment.",
  room_full: "This session holds as many messages as it can. Start a new session to carry on.",
  conflict: "Someone changed this at the same time. Please try again.",
  read_only: "This session has ended: it can be read, not changed.",
  body_too_large: "That is too long to send.",
  internal: "Something went wrong on our side. Please try again.",
  validation_failed: "Please check the highlighted fields.",
  file_too_large: "That file is too large. Please send a smaller one, such as a photo instead of a scan.",
  unsupported_type: "That file is not a JPEG or PNG photo or a PDF. Please choose another.",
  invalid_document: "That file is not a PDF that can be opened. It may be damaged or protected by a password.",
  malformed_upload: "The file did not arrive whole. Please try again.",
  asset_deleted: "This file was deleted after the time your organisation keeps files.",
  invalid_state: "That is not possible in this session's state.",
  malformed_json: "Something went wrong on our side. Please try again.",
  method_not_allowed: "Something went wrong on our side. Please try again.",
  not_joined: "The conversation is reconnecting. Please try again in a moment.",
  too_many_topics: "Too many sessions are open in this window. Close some and try again.",
  bad_frame: "Something went wrong on our side. Please try again.",
  unknown_op: "Something went wrong on our side. Please try again.",
};

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
    ? "This email address has no @ in it. Check it for a typo."
    : "This does not look like a full email address. Check it for a typo, such as name@example.com."),
  "customer.phone": () => "Enter a phone number with its country code, such as +1 415 555 0123.",
  "customer.name": () => "Keep the name under 200 characters.",
  "settings_team_id": () => "You may not use this team's settings. Pick another team.",
};

// fieldError is the message to show next to a field.
export function fieldError(path, msg, value) {
  const f = FIELD_WORDS[path];
  if (f) { return f(msg, value); }
  if (/^is required/.test(msg)) { return "This is required."; }
  return sentence(msg);
}

// Names ------------------------------------------------------------------

export function initials(name) {
  const parts = String(name || "").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) { return "?"; }
  return (parts[0][0] + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

// customerName is how a session's customer is called on screen.
export function customerName(c) {
  if (!c) { return ""; }
  return c.name || c.email || c.phone_display || phoneWords(c.phone) || "Customer";
}

export function firstName(c, nameless = "The customer") {
  const n = (c && c.name) || "";
  return n ? n.split(/\s+/)[0] : nameless;
}

// midName is firstName inside a sentence: "the customer" when nameless.
export const midName = (c) => firstName(c, "the customer");

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
