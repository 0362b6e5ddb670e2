// Follow-up settings, in plain words: reminders while the customer has
// tasks to do, a notice of a new message while they are away, a warning
// before their link expires, and the hours they may go out. Part of the
// org settings form and of a team's overrides (admin.js), saved with it.
import { html, Field } from "../ui.js";

const DAYS = [["mon", "Mon"], ["tue", "Tue"], ["wed", "Wed"], ["thu", "Thu"], ["fri", "Fri"], ["sat", "Sat"], ["sun", "Sun"]];

export const FOLLOWUP_DEFAULTS = {
  reminders: { enabled: false, first_after: "24h", every: "48h", max: 2 },
  window: { days: ["mon", "tue", "wed", "thu", "fri"], from: "09:00", to: "18:00", time_zone: "UTC" },
  away_notice: { enabled: false, after: "1h" },
  expiry_warning: { enabled: false, before: "24h" },
};

// FollowupFields edits one follow-up settings object. prefix names the
// server's fields ("followups" or "settings.followups"); Duration is the
// admin screens' duration input; idp keeps ids unique on the page.
export function FollowupFields({ value, onChange, errors, prefix, Duration, idp }) {
  const f = value || FOLLOWUP_DEFAULTS;
  const part = (k, v) => onChange({ ...f, [k]: { ...f[k], ...v } });
  const err = (k) => errors[prefix + "." + k];
  const dur = (id, label, k, sub, hint) => html`<${Field} id=${idp + id} label=${label} error=${err(k + "." + sub)} hint=${hint}>
    ${(p) => html`<${Duration} id=${p.id} describedBy=${p["aria-describedby"]} invalid=${p["aria-invalid"]} testid=${idp + id}
      value=${f[k][sub]} onChange=${(v) => part(k, { [sub]: v })} />`}
  <//>`;
  const w = f.window;
  const toggleDay = (d, on) => part("window", { days: on ? DAYS.map(([k]) => k).filter((k) => k === d || w.days.includes(k)) : w.days.filter((k) => k !== d) });
  return html`<div class="followup-fields" data-testid=${idp + "followups"}>
    <div class="field check">
      <label><input type="checkbox" checked=${f.reminders.enabled} data-testid=${idp + "reminders-on"}
        onChange=${(e) => part("reminders", { enabled: e.currentTarget.checked })} /> Remind customers who have tasks to do</label>
      <p class="hint">By the invitation's channel, with their link and a “stop reminders” link. Never once they are done, the session ended or they asked to stop.</p>
    </div>
    ${f.reminders.enabled && html`
      ${dur("first", "First reminder, after the invitation, in", "reminders", "first_after")}
      ${dur("every", "Then one every", "reminders", "every")}
      <${Field} id=${idp + "max"} label="At most this many reminders" error=${err("reminders.max")} hint="1 to 10.">
        ${(p) => html`<input ...${p} type="number" min="1" max="10" class="short" value=${f.reminders.max} data-testid=${idp + "max"}
          onInput=${(e) => part("reminders", { max: Number(e.currentTarget.value) })} />`}
      <//>`}
    <div class="field check">
      <label><input type="checkbox" checked=${f.away_notice.enabled} data-testid=${idp + "notice-on"}
        onChange=${(e) => part("away_notice", { enabled: e.currentTarget.checked })} /> Tell customers who are away that the agent wrote to them</label>
      <p class="hint">Once per quiet period, and not if they come back before it ends.</p>
    </div>
    ${f.away_notice.enabled && dur("after", "Tell them when they have not come back within", "away_notice", "after")}
    <div class="field check">
      <label><input type="checkbox" checked=${f.expiry_warning.enabled} data-testid=${idp + "expiry-on"}
        onChange=${(e) => part("expiry_warning", { enabled: e.currentTarget.checked })} /> Warn customers with tasks to do before their link expires</label>
    </div>
    ${f.expiry_warning.enabled && dur("before", "Warn them this long before", "expiry_warning", "before")}
    <fieldset class="subgroup">
      <legend>Send only on</legend>
      <div class="days" role="group" aria-label="Days">
        ${DAYS.map(([k, label]) => html`<label key=${k} class="day"><input type="checkbox" checked=${w.days.includes(k)}
          data-testid=${idp + "day-" + k} onChange=${(e) => toggleDay(k, e.currentTarget.checked)} /> ${label}</label>`)}
      </div>
      ${err("window.days") && html`<p class="field-error" role="alert">${err("window.days")}</p>`}
      <${Field} id=${idp + "from"} label="From" error=${err("window.from")}>
        ${(p) => html`<input ...${p} type="time" class="short" value=${w.from} data-testid=${idp + "from"} onInput=${(e) => part("window", { from: e.currentTarget.value })} />`}
      <//>
      <${Field} id=${idp + "to"} label="Until" error=${err("window.to")}>
        ${(p) => html`<input ...${p} type="time" class="short" value=${w.to === "24:00" ? "23:59" : w.to} data-testid=${idp + "to"}
          onInput=${(e) => part("window", { to: e.currentTarget.value === "23:59" ? "24:00" : e.currentTarget.value })} />`}
      <//>
      <${Field} id=${idp + "tz"} label="In the time zone" error=${err("window.time_zone")}
        hint="Such as Europe/Paris. A customer's own time zone is used instead once their page tells it.">
        ${(p) => html`<input ...${p} value=${w.time_zone} data-testid=${idp + "tz"} autocomplete="off" onInput=${(e) => part("window", { time_zone: e.currentTarget.value.trim() })} />`}
      <//>
    </fieldset>
  </div>`;
}
