// Follow-up settings, in plain words: reminders while the customer has
// tasks to do, a notice of a new message while they are away, a warning
// before their link expires, and the hours they may go out. Part of the
// org settings form and of a team's overrides (admin.js), saved with it.
import { html, Field } from "../ui.js";
import { w } from "./catalog.js";

const DAYS = [["mon", w("followupsettings.mon")], ["tue", w("followupsettings.tue")], ["wed", w("followupsettings.wed")], ["thu", w("followupsettings.thu")], ["fri", w("followupsettings.fri")], ["sat", w("followupsettings.sat")], ["sun", w("followupsettings.sun")]];

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
  const win = f.window;
  const toggleDay = (d, on) => part("window", { days: on ? DAYS.map(([k]) => k).filter((k) => k === d || win.days.includes(k)) : win.days.filter((k) => k !== d) });
  return html`<div class="followup-fields" data-testid=${idp + "followups"}>
    <div class="field check">
      <label><input type="checkbox" checked=${f.reminders.enabled} data-testid=${idp + "reminders-on"}
        onChange=${(e) => part("reminders", { enabled: e.currentTarget.checked })} /> ${w("followupsettings.remind_customers_who_have")}</label>
      <p class="hint">${w("followupsettings.by_the_invitation_s")}</p>
    </div>
    ${f.reminders.enabled && html`
      ${dur("first", w("followupsettings.first_reminder_after_the"), "reminders", "first_after")}
      ${dur("every", w("followupsettings.then_one_every"), "reminders", "every")}
      <${Field} id=${idp + "max"} label=${w("followupsettings.at_most_this_many")} error=${err("reminders.max")} hint=${w("followupsettings.to")}>
        ${(p) => html`<input ...${p} type="number" min="1" max="10" class="short" value=${f.reminders.max} data-testid=${idp + "max"}
          onInput=${(e) => part("reminders", { max: Number(e.currentTarget.value) })} />`}
      <//>`}
    <div class="field check">
      <label><input type="checkbox" checked=${f.away_notice.enabled} data-testid=${idp + "notice-on"}
        onChange=${(e) => part("away_notice", { enabled: e.currentTarget.checked })} /> ${w("followupsettings.tell_customers_who_are")}</label>
      <p class="hint">${w("followupsettings.once_per_quiet_period")}</p>
    </div>
    ${f.away_notice.enabled && dur("after", w("followupsettings.tell_them_when_they"), "away_notice", "after")}
    <div class="field check">
      <label><input type="checkbox" checked=${f.expiry_warning.enabled} data-testid=${idp + "expiry-on"}
        onChange=${(e) => part("expiry_warning", { enabled: e.currentTarget.checked })} /> ${w("followupsettings.warn_customers_with_tasks")}</label>
    </div>
    ${f.expiry_warning.enabled && dur("before", w("followupsettings.warn_them_this_long"), "expiry_warning", "before")}
    <fieldset class="subgroup">
      <legend>${w("followupsettings.send_only_on")}</legend>
      <div class="days" role="group" aria-label=${w("followupsettings.days")}>
        ${DAYS.map(([k, label]) => html`<label key=${k} class="day"><input type="checkbox" checked=${win.days.includes(k)}
          data-testid=${idp + "day-" + k} onChange=${(e) => toggleDay(k, e.currentTarget.checked)} /> ${label}</label>`)}
      </div>
      ${err("window.days") && html`<p class="field-error" role="alert">${err("window.days")}</p>`}
      <${Field} id=${idp + "from"} label=${w("followupsettings.from")} error=${err("window.from")}>
        ${(p) => html`<input ...${p} type="time" class="short" value=${win.from} data-testid=${idp + "from"} onInput=${(e) => part("window", { from: e.currentTarget.value })} />`}
      <//>
      <${Field} id=${idp + "to"} label=${w("followupsettings.until")} error=${err("window.to")}>
        ${(p) => html`<input ...${p} type="time" class="short" value=${win.to === "24:00" ? "23:59" : win.to} data-testid=${idp + "to"}
          onInput=${(e) => part("window", { to: e.currentTarget.value === "23:59" ? "24:00" : e.currentTarget.value })} />`}
      <//>
      <${Field} id=${idp + "tz"} label=${w("followupsettings.in_the_time_zone")} error=${err("window.time_zone")}
        hint=${w("followupsettings.such_as_europe_paris")}>
        ${(p) => html`<input ...${p} value=${win.time_zone} data-testid=${idp + "tz"} autocomplete="off" onInput=${(e) => part("window", { time_zone: e.currentTarget.value.trim() })} />`}
      <//>
    </fieldset>
  </div>`;
}
