// Start or pre-plan a session: the customer's name and contact, the
// settings to use, and a PIN when those settings ask for one. Field
// errors come back from the API and are shown next to their field in
// plain words.
import { html, useState, useRef, Dialog, Field, cx } from "../ui.js";
import { agentApi } from "../api.js";
import { fieldError, plainError, AUTH_METHOD } from "../words.js";
import { me, go, putSession, noteActivity, room } from "./state.js";
import { languages, loadLanguages } from "./languages.js";
import { w, wx } from "./catalog.js";

const PATHS = {
  "customer.name": "name", "customer.email": "email", "customer.phone": "phone", "customer": "contact",
  "pin": "pin", "settings_team_id": "team", "language": "language",
};

export function NewSession({ mode, onClose }) {
  const a = me.value;
  const teams = [...(a.settings_teams || [])].sort((x, y) => (x.id === a.team_id ? -1 : y.id === a.team_id ? 1 : x.name.localeCompare(y.name)));
  const [f, setF] = useState({ name: "", channel: "email", email: "", phone: "", team: teams[0] ? teams[0].id : "", pin: "", language: "" });
  loadLanguages();
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [general, setGeneral] = useState("");
  const form = useRef(null);
  const team = teams.find((t) => t.id === f.team);
  const needsPIN = team && team.customer_authentication === "pin";
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const plan = mode === "preplan";

  const check = () => {
    const errs = contactErrors(f, a);
    if (needsPIN && !/^\d+$/.test(f.pin)) { errs.pin = w("newsession.enter_a_pin_of"); }
    return errs;
  };

  const submit = async (e) => {
    e.preventDefault();
    setGeneral("");
    const errs = check();
    setErrors(errs);
    if (Object.keys(errs).length) {
      focusFirstError(form);
      return;
    }
    const body = { mode: plan ? "preplan" : "start", customer: customerBody(f, a), settings_team_id: f.team || undefined,
      language: f.language || undefined };
    if (needsPIN) { body.pin = f.pin; }
    setBusy(true);
    try {
      const s = await agentApi.post("/api/sessions", body);
      putSession(s);
      noteActivity(s.id);
      const m = room(s.id);
      m.setSession(s);
      if (!plan) { m.noteInvitation(s); }
      onClose();
      go("#/s/" + encodeURIComponent(s.id));
    } catch (err) {
      const [errs, rest] = apiErrors(err, f);
      setGeneral(rest);
      setErrors(errs);
      setBusy(false);
      focusFirstError(form);
    }
  };

  return html`<${Dialog} title=${plan ? w("newsession.pre_plan_a_session") : w("newsession.start_a_session")} onClose=${onClose} cls="dialog-form" testid="session-dialog">
    <form ref=${form} onSubmit=${submit} novalidate>
      <p class="lead">${plan
        ? w("newsession.prepare_the_session_first")
        : w("newsession.the_customer_gets_an")}</p>
      <${Field} id="ns-name" label=${w("newsession.customer_name")} optional=${true} error=${errors.name}>
        ${(p) => html`<input ...${p} data-testid="customer-name" value=${f.name} onInput=${set("name")} autocomplete="off" maxlength="200" />`}
      <//>
      <${ContactFields} f=${f} setF=${setF} errors=${errors} />
      <${LanguageField} id="ns-language" value=${f.language} onChange=${set("language")} error=${errors.language} />
      <details class="settings-picker">
        <summary data-testid="session-settings">${w("newsession.enter_session_settings")} <span class="muted">· ${team ? team.name : "none"}</span></summary>
        <${Field} id="ns-team" label=${w("newsession.use_the_settings_of")} error=${errors.team}
            hint=${w("newsession.settings_decide_the_task")}>
          ${(p) => html`<select ...${p} data-testid="settings-team" value=${f.team} onChange=${set("team")}>
            ${teams.map((t) => html`<option key=${t.id} value=${t.id}>${t.name}${t.id === a.team_id ? w("newsession.your_team") : ""}</option>`)}
          </select>`}
        <//>
        ${team && html`<p class="hint">${team.name}${wx("newsession.customers_confirm_who_they", { value: AUTH_METHOD[team.customer_authentication] || "nothing", value_b: team.consent_required ? w("newsession.and_are_asked_for") : "" })}</p>`}
      </details>
      ${needsPIN && html`<${Field} id="ns-pin" label=${w("newsession.pin_for_the_customer")} error=${errors.pin}
          hint=${w("newsession.these_settings_ask_the")}>
        ${(p) => html`<${PinInput} p=${p} value=${f.pin} onInput=${set("pin")} />`}
      <//>`}
      ${general && html`<p class="notice notice-bad" role="alert">${general}</p>`}
      <div class="dialog-actions">
        <button type="button" class="btn" onClick=${onClose}>${w("newsession.cancel")}</button>
        <button type="submit" class=${cx("btn", "btn-primary")} data-testid="session-submit" disabled=${busy}>
          ${busy ? w("newsession.working") : plan ? w("newsession.create_the_plan") : w("newsession.start_and_invite")}</button>
      </div>
    </form>
  <//>`;
}

// focusFirstError moves focus to the first field with an error, once the
// errors are drawn.
export function focusFirstError(form) {
  requestAnimationFrame(() => {
    const first = form.current && form.current.querySelector("[aria-invalid=true]");
    if (first) { first.focus(); }
  });
}

// contactErrors checks the contact before it goes to the API: an address
// without @ is a typo in an email, whatever else it looks like.
export function contactErrors(f, a) {
  const external = a.invitation_mode === "external";
  const sms = a.sms_enabled || external;
  const errs = {};
  const wantEmail = external || f.channel === "email" || !sms;
  const wantPhone = external || (f.channel === "phone" && sms);
  if (external && !f.email.trim() && !f.phone.trim()) { errs.contact = w("newsession.enter_an_email_address"); }
  if (!external && wantEmail && !f.email.trim()) { errs.email = w("newsession.enter_the_customer_s"); }
  if (!external && wantPhone && !f.phone.trim()) { errs.phone = w("newsession.enter_the_customer_s_b"); }
  if (wantEmail && f.email.trim() && !f.email.includes("@")) { errs.email = fieldError("customer.email", "", f.email); }
  return errs;
}

// customerBody is the customer object the API takes.
export function customerBody(f, a) {
  const external = a.invitation_mode === "external";
  const sms = a.sms_enabled || external;
  const customer = { name: f.name.trim() };
  if ((external || f.channel === "email" || !sms) && f.email.trim()) { customer.email = f.email.trim(); }
  if ((external || (f.channel === "phone" && sms)) && f.phone.trim()) { customer.phone = f.phone.trim(); }
  return customer;
}

// apiErrors sorts an API error into field messages and one general one.
export function apiErrors(err, f) {
  const errs = {};
  let rest = "";
  if (err.code === "validation_failed") {
    for (const [path, msg] of Object.entries(err.fields)) {
      const key = PATHS[path] || "general";
      const value = key === "email" ? f.email : key === "phone" ? f.phone : "";
      if (key === "general") { rest = fieldError(path, msg); } else { errs[key] = fieldError(path, msg, value); }
    }
  } else if (err.code === "sms_disabled") {
    errs.phone = plainError(err);
  } else {
    rest = plainError(err);
  }
  return [errs, rest];
}

// ContactFields are the customer's email or phone: a choice of channel
// with built-in invitations (no phone when SMS is off), both fields with
// external ones.
export function ContactFields({ f, setF, errors, idPrefix = "ns" }) {
  const a = me.value;
  const external = a.invitation_mode === "external";
  const sms = a.sms_enabled || external;
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const channelChoice = !external && sms;
  return html`
    ${external && html`<p class="notice notice-info" data-testid="external-notice">${w("newsession.your_organisation_sends_invitations")}</p>`}
    ${channelChoice && html`<fieldset class="choice">
      <legend>${w("newsession.send_the_invitation_by")}</legend>
      <label><input type="radio" name=${idPrefix + "-channel"} value="email" checked=${f.channel === "email"} onChange=${set("channel")} data-testid="channel-email" /> ${w("newsession.email")}</label>
      <label><input type="radio" name=${idPrefix + "-channel"} value="phone" checked=${f.channel === "phone"} onChange=${set("channel")} data-testid="channel-phone" /> ${w("newsession.text_message")}</label>
    </fieldset>`}
    ${(external || !channelChoice || f.channel === "email") && html`<${Field} id=${idPrefix + "-email"} label=${w("newsession.email_address")} error=${errors.email}
        optional=${external} hint=${external ? "" : w("newsession.the_invitation_goes_to")}>
      ${(p) => html`<input ...${p} type="email" inputmode="email" data-testid="customer-email" value=${f.email}
        onInput=${set("email")} autocomplete="off" spellcheck="false" />`}
    <//>`}
    ${(external || (channelChoice && f.channel === "phone")) && html`<${Field} id=${idPrefix + "-phone"} label=${w("newsession.phone_number")} error=${errors.phone}
        optional=${external} hint=${w("newsession.with_its_country_code", { value: a.phone_default_region ? w("newsession.without_one_a_number", { phone_default_region: a.phone_default_region }) : "" })}>
      ${(p) => html`<input ...${p} type="tel" inputmode="tel" data-testid="customer-phone" value=${f.phone}
        onInput=${set("phone")} autocomplete="off" />`}
    <//>`}
    ${errors.contact && html`<p class="field-error" role="alert">${errors.contact}</p>`}`;
}

// PinInput takes a PIN out of sight of whoever stands behind the agent,
// with Show to check what was typed.
function PinInput({ p, value, onInput }) {
  const [shown, setShown] = useState(false);
  return html`<span class="secret-input">
    <input ...${p} type=${shown ? "text" : "password"} inputmode="numeric" autocomplete="new-password" data-testid="session-pin"
      value=${value} onInput=${onInput} maxlength="12" />
    <button type="button" class="btn btn-small" aria-pressed=${shown ? "true" : "false"} aria-controls=${p.id}
      data-testid="session-pin-show" onClick=${() => setShown(!shown)}>${shown ? w("newsession.hide") : w("newsession.show")}</button>
  </span>`;
}

// SessionPIN lets the agent who set a session's PIN read it again, to
// tell a customer who forgot it. It is asked for only when wanted, and
// hidden again after a minute.
export function SessionPIN({ id }) {
  const [pin, setPin] = useState("");
  const [error, setError] = useState("");
  const show = async () => {
    setError("");
    try {
      const r = await agentApi.get("/api/sessions/" + encodeURIComponent(id) + "/pin");
      setPin(r.pin);
      setTimeout(() => setPin(""), 60000);
    } catch (e) {
      setError(plainError(e));
    }
  };
  return html`<span class="session-pin" data-testid="session-pin-view">
    ${w("newsession.pin")} <span class="pin-digits" data-testid="session-pin-digits">${pin || "••••••"}</span>
    <button type="button" class="link-btn" data-testid="session-pin-reveal" aria-pressed=${pin ? "true" : "false"}
      onClick=${() => (pin ? setPin("") : show())}>${pin ? w("newsession.hide") : w("newsession.show")}</button>
    ${error && html`<span class="error-text" role="alert">${error}</span>`}
  </span>`;
}

// LanguageField picks the customer's language; none leaves it to the
// settings' language, else the customer's browser.
export function LanguageField({ id, value, onChange, error }) {
  return html`<${Field} id=${id} label=${w("newsession.customer_s_language")} error=${error}
      hint=${w("newsession.the_language_of_the")}>
    ${(p) => html`<select ...${p} data-testid="session-language" value=${value} onChange=${onChange}>
      <option value="">${w("newsession.the_settings_language_else")}</option>
      ${languages.value.map((l) => html`<option key=${l.code} value=${l.code} lang=${l.code}>${l.name}</option>`)}
    </select>`}
  <//>`;
}
