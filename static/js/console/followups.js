// Follow-ups on the room's card: where the customer's reminders stand,
// the agent's pause and resume, and when the customer's link expires
// (warned from a day before). The log's words for follow-up events
// live here too.
import { html, announce, cx } from "../ui.js";
import { clock, plainError } from "../words.js";

const DAY = 24 * 60 * 60 * 1000;

// shortWhen is "Tue 10:00" within the coming week, else "8 Dec 10:00".
export function shortWhen(t, now = new Date()) {
  const d = new Date(t);
  const soon = d - now < 6 * DAY && d - now > -DAY;
  const day = soon ? d.toLocaleDateString([], { weekday: "short" }) : d.toLocaleDateString([], { day: "numeric", month: "short" });
  return `${day} ${clock(d)}`;
}

function reminderWords(r) {
  switch (r.status) {
  case "scheduled": return `Reminders: ${r.sent} of ${r.max} sent · next ${shortWhen(r.next_at)}`;
  case "paused": return `Reminders: ${r.sent} of ${r.max} sent · Paused`;
  case "stopped": return "Reminders: Stopped by the customer";
  case "done": return `Reminders: ${r.sent} of ${r.max} sent · none due`;
  default: return "";
  }
}

// followupFacts are the indicator card's lines on follow-ups: where
// reminders stand and when the link expires.
export function followupFacts(s) {
  const r = s.followups && s.followups.reminders;
  const words = r ? reminderWords(r).replace(/^Reminders: /, "") : "";
  const exp = s.link_expires_at && s.state === "active" ? new Date(s.link_expires_at) : null;
  const out = [];
  if (words) { out.push(["Reminders", words]); }
  if (exp) { out.push(["Link", `${exp <= Date.now() ? "expired" : "expires"} ${shortWhen(exp)}`]); }
  return out;
}

// FollowupCard is the room's line about reminders and the link's expiry.
export function FollowupCard({ m, s }) {
  const r = s.followups && s.followups.reminders;
  const words = r ? reminderWords(r) : "";
  const exp = s.link_expires_at && s.state === "active" ? new Date(s.link_expires_at) : null;
  const expiring = exp && exp - Date.now() < DAY;
  if (!words && !exp) { return null; }
  const canPause = r && (r.status === "scheduled" || r.status === "done") && s.state === "active";
  return html`<div class="followups" role="status" data-testid="followups">
    ${words && html`<span data-testid="reminders-status">${words}</span>`}
    ${canPause && html`<button type="button" class="btn btn-small" data-testid="reminders-pause" onClick=${() => pause(m, "pause")}>Pause reminders</button>`}
    ${r && r.status === "paused" && s.state === "active" && html`<button type="button" class="btn btn-small" data-testid="reminders-resume"
      onClick=${() => pause(m, "resume")}>Resume reminders</button>`}
    ${exp && html`<span class=${cx("link-expiry", expiring && "link-expiry-soon")} data-testid="link-expiry">
      ${exp <= Date.now() ? `Link expired ${shortWhen(exp)}` : `Link expires ${shortWhen(exp)}`}</span>`}
  </div>`;
}

async function pause(m, verb) {
  try {
    await m.act("reminders/" + verb);
    announce(verb === "pause" ? "Reminders are paused for this session." : "Reminders will go again.");
  } catch (e) {
    announce(plainError(e), "bad");
  }
}

const KIND = { reminder: "Reminder", away_notice: "New-message notice", expiry_warning: "Link expiry warning" };

// followupNote is the log's line for a follow-up event, or null.
export function followupNote(e, actor, cust) {
  const by = e.channel === "sms" ? "text message" : "email";
  switch (e.type) {
  case "reminder": case "away_notice": case "expiry_warning":
    return e.state === "failed"
      ? { tone: "warn", text: `${KIND[e.type]} could not be sent by ${by} ${clock(e.at)}` }
      : { text: `${KIND[e.type]} sent by ${by} ${clock(e.at)}` };
  case "reminders.paused": return { text: `${actor} paused reminders` };
  case "reminders.resumed": return { text: `${actor} resumed reminders` };
  case "reminders.stopped": return { tone: "warn", text: `${cust} stopped reminders` };
  default: return null;
  }
}
