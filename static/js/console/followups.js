// Follow-ups on the room's card: where the customer's reminders stand,
// the agent's pause and resume, and when the customer's link expires
// (warned from a day before). The log's words for follow-up events
// live here too.
import { html, announce, cx } from "../ui.js";
import { clock, plainError } from "../words.js";
import { w } from "./catalog.js";

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
  case "scheduled": return w("followups.reminders_of_sent_next", { sent: r.sent, max: r.max, short_when: shortWhen(r.next_at) });
  case "paused": return w("followups.reminders_of_sent_paused", { sent: r.sent, max: r.max });
  case "stopped": return w("followups.reminders_stopped_by_the");
  case "done": return w("followups.reminders_of_sent_none", { sent: r.sent, max: r.max });
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
  if (words) { out.push([w("followups.reminders"), words]); }
  if (exp) { out.push([w("followups.link"), (exp <= Date.now() ? w("followups.expired_when", { when: shortWhen(exp) }) : w("followups.expires_when", { when: shortWhen(exp) }))]); }
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
    ${canPause && html`<button type="button" class="btn btn-small" data-testid="reminders-pause" onClick=${() => pause(m, "pause")}>${w("followups.pause_reminders")}</button>`}
    ${r && r.status === "paused" && s.state === "active" && html`<button type="button" class="btn btn-small" data-testid="reminders-resume"
      onClick=${() => pause(m, "resume")}>${w("followups.resume_reminders")}</button>`}
    ${exp && html`<span class=${cx("link-expiry", expiring && "link-expiry-soon")} data-testid="link-expiry">
      ${exp <= Date.now() ? w("followups.link_expired", { short_when: shortWhen(exp) }) : w("followups.link_expires", { short_when: shortWhen(exp) })}</span>`}
  </div>`;
}

async function pause(m, verb) {
  try {
    await m.act("reminders/" + verb);
    announce(verb === "pause" ? w("followups.reminders_are_paused_for") : w("followups.reminders_will_go_again"));
  } catch (e) {
    announce(plainError(e), "bad");
  }
}

const KIND = { reminder: w("followups.reminder"), away_notice: w("followups.new_message_notice"), expiry_warning: w("followups.link_expiry_warning") };

// followupNote is the log's line for a follow-up event, or null.
export function followupNote(e, actor, cust) {
  const by = e.channel === "sms" ? w("followups.text_message") : "email";
  switch (e.type) {
  case "reminder": case "away_notice": case "expiry_warning":
    return e.state === "failed"
      ? { tone: "warn", text: w("followups.could_not_be_sent", { value: KIND[e.type], by, clock: clock(e.at) }) }
      : { text: w("followups.sent_by", { value: KIND[e.type], by, clock: clock(e.at) }) };
  case "reminders.paused": return { text: w("followups.paused_reminders", { actor }) };
  case "reminders.resumed": return { text: w("followups.resumed_reminders", { actor }) };
  case "reminders.stopped": return { tone: "warn", text: w("followups.stopped_reminders", { cust }) };
  default: return null;
  }
}
