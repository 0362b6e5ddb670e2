// Admin screens: the org's settings (single sign-on's in sso.js), teams (their settings, task
// templates and invitation templates with a live preview), agents, API
// keys (keys.js), webhooks (webhooks.js), and the outbox. Every setting says what it does.
import { html, useState, useEffect, useRef, Field, Dialog, Icon, announce, cx } from "../ui.js";
import { agentApi } from "../api.js";
import { END_MODES, TASK_KINDS, AUTH_METHOD, parseDuration, endAccessWords, fieldError, plainError, when } from "../words.js";
import { me, go, route } from "./state.js";
import { APIKeys } from "./keys.js";
import { Webhooks } from "./webhooks.js";
import { SSOSettings } from "./sso.js";
import { FollowupFields, FOLLOWUP_DEFAULTS } from "./followupsettings.js";
import { TeamLanguages } from "./teamlanguages.js";
import { w, wx } from "./catalog.js";

const PAGES = [["settings", w("admin.org_settings")], ["teams", w("admin.teams")], ["agents", w("admin.agents")], ["keys", w("admin.api_keys")], ["webhooks", w("admin.webhooks")], ["outbox", w("admin.outbox")]];

export function AdminView() {
  const r = route.value;
  const page = r.page;
  return html`<section class="admin" aria-labelledby="admin-h">
    <div class="admin-head">
      <h1 id="admin-h">${w("admin.administration")}</h1>
      <nav aria-label=${w("admin.administration")} class="tabs">
        ${PAGES.map(([id, label]) => html`<a key=${id} href=${"#/admin/" + id} class=${cx("tab", page === id && "tab-current")}
          aria-current=${page === id ? "page" : undefined} data-testid=${"admin-" + id}>${label}</a>`)}
      </nav>
    </div>
    <div class="admin-body">
      ${page === "settings" && html`<${OrgSettings} /><${SigningIdentity} />`}
      ${page === "teams" && !r.id && html`<${Teams} />`}
      ${page === "teams" && r.id && html`<${TeamEditor} key=${r.id} id=${r.id} />`}
      ${page === "agents" && html`<${Agents} />`}
      ${page === "keys" && html`<${APIKeys} />`}
      ${page === "webhooks" && html`<${Webhooks} />`}
      ${page === "outbox" && html`<${Outbox} />`}
    </div>
  </section>`;
}

// focusInvalid puts focus on a form's first field marked invalid, once
// the errors are drawn: after a failed save the admin lands on what to
// fix, not on the page.
function focusInvalid(form) {
  requestAnimationFrame(() => {
    const first = form && form.querySelector("[aria-invalid=true]");
    if (first) { first.focus(); }
  });
}

// useLoad reads a resource once; reload reads it again.
function useLoad(path) {
  const [state, setState] = useState({ data: null, error: "" });
  const load = async () => {
    try {
      setState({ data: await agentApi.get(path), error: "" });
    } catch (e) {
      setState({ data: null, error: plainError(e) });
    }
  };
  useEffect(() => { load(); }, [path]);
  return [state.data, state.error, load];
}

function fieldErrors(err) {
  const out = {};
  for (const [k, v] of Object.entries(err.fields || {})) { out[k] = fieldError(k, v); }
  return out;
}

// Durations -------------------------------------------------------------

function splitDuration(s) {
  const ms = parseDuration(s);
  const min = Math.round(ms / 60e3);
  if (min >= 4 * 1440 && min % 1440 === 0) { return { n: min / 1440, unit: "d" }; }
  if (min > 0 && min % 60 === 0) { return { n: min / 60, unit: "h" }; }
  return { n: min, unit: "m" };
}

function joinDuration(n, unit) {
  const v = Math.max(0, Math.round(Number(n) || 0));
  if (v === 0) { return "0s"; }
  return unit === "d" ? `${v * 24}h` : unit === "h" ? `${v}h` : `${v}m`;
}

// DurationInput edits a Go duration as a number and a unit.
function DurationInput({ id, value, onChange, describedBy, invalid, testid }) {
  const d = splitDuration(value);
  return html`<span class="duration">
    <input id=${id} type="number" min="0" step="1" inputmode="numeric" value=${d.n} aria-describedby=${describedBy}
      aria-invalid=${invalid} data-testid=${testid} onInput=${(e) => onChange(joinDuration(e.currentTarget.value, d.unit))} />
    <label class="sr-only" for=${id + "-unit"}>${w("admin.unit")}</label>
    <select id=${id + "-unit"} value=${d.unit} onChange=${(e) => onChange(joinDuration(d.n, e.currentTarget.value))}>
      <option value="m">${w("admin.minutes")}</option><option value="h">${w("admin.hours")}</option><option value="d">${w("admin.days")}</option>
    </select>
  </span>`;
}

function SaveBar({ busy, error, testid, label = w("admin.save") }) {
  return html`<div class="save-bar">
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    <button type="submit" class="btn btn-primary" data-testid=${testid} disabled=${busy}>${busy ? w("admin.saving") : label}</button>
  </div>`;
}

// Org settings ------------------------------------------------------------

function OrgSettings() {
  const [data, loadError] = useLoad("/api/settings");
  const [f, setF] = useState(null);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [general, setGeneral] = useState("");
  useEffect(() => { if (data) { setF(data); } }, [data]);
  if (loadError) { return html`<p class="notice notice-bad">${loadError}</p>`; }
  if (!f) { return html`<p class="muted">${w("admin.loading")}</p>`; }
  const set = (k, v) => setF({ ...f, [k]: v });
  const access = f.end_session_access;
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setGeneral("");
    try {
      const saved = await agentApi.put("/api/settings", f);
      setF(saved);
      setErrors({});
      me.value = { ...me.value, sms_enabled: saved.sms_enabled, invitation_mode: saved.invitation_mode,
        history_search_space: saved.history_search_space, phone_default_region: saved.phone_default_region };
      announce(w("admin.org_settings_saved_they"));
    } catch (err) {
      setErrors(fieldErrors(err));
      setGeneral(err.code === "validation_failed" ? w("admin.some_settings_need_a") : plainError(err));
      focusInvalid(e.target);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="admin-form" onSubmit=${submit} novalidate data-testid="settings-form">
    <h2>${w("admin.org_settings")}</h2>
    <p class="lead">${w("admin.these_apply_to_every")}</p>

    <fieldset class="group">
      <legend>${w("admin.invitations")}</legend>
      <div class="field check">
        <label><input type="checkbox" checked=${f.sms_enabled} data-testid="set-sms"
          onChange=${(e) => set("sms_enabled", e.currentTarget.checked)} /> ${w("admin.invite_by_text_message")}</label>
        <p class="hint">${w("admin.when_off_agents_invite")}</p>
      </div>
      <div class="field">
        <span class="label">${w("admin.who_sends_invitations")}</span>
        <label class="radio"><input type="radio" name="invmode" value="builtin" checked=${f.invitation_mode === "builtin"}
          onChange=${() => set("invitation_mode", "builtin")} /> ${w("admin.cohub_sends_them_by")}</label>
        <label class="radio"><input type="radio" name="invmode" value="external" checked=${f.invitation_mode === "external"}
          onChange=${() => set("invitation_mode", "external")} data-testid="set-external" /> ${w("admin.we_send_them_ourselves")}</label>
        ${errors.invitation_mode && html`<p class="field-error">${errors.invitation_mode}</p>`}
      </div>
      <${Field} id="set-life" label=${w("admin.customer_links_work_for")} error=${errors.customer_access_duration}
        hint=${w("admin.after_this_a_link")}>
        ${(p) => html`<${DurationInput} id=${p.id} describedBy=${p["aria-describedby"]} invalid=${p["aria-invalid"]}
          value=${f.customer_access_duration} onChange=${(v) => set("customer_access_duration", v)} />`}
      <//>
    </fieldset>

    <fieldset class="group">
      <legend>${w("admin.when_a_session_ends")}</legend>
      <${Field} id="set-end" label=${w("admin.what_the_customer_keeps")} error=${errors["end_session_access.mode"]}
        hint=${endAccessWords(access) || w("admin.pick_one")}>
        ${(p) => html`<select ...${p} value=${access.mode} data-testid="set-end-mode"
          onChange=${(e) => set("end_session_access", { ...access, mode: e.currentTarget.value, duration: access.duration && access.duration !== "0s" ? access.duration : "72h" })}>
          ${Object.entries(END_MODES).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}
        </select>`}
      <//>
      ${(access.mode === "full_for" || access.mode === "limited_for") && html`<${Field} id="set-end-d" label=${w("admin.for_how_long")}
          error=${errors["end_session_access.duration"]}>
        ${(p) => html`<${DurationInput} id=${p.id} describedBy=${p["aria-describedby"]} value=${access.duration}
          onChange=${(v) => set("end_session_access", { ...access, duration: v })} />`}
      <//>`}
      <div class="field check">
        <label><input type="checkbox" checked=${parseDuration(f.auto_end_after) > 0}
          onChange=${(e) => set("auto_end_after", e.currentTarget.checked ? "8h" : "0s")} /> ${w("admin.end_sessions_by_themselves")}</label>
        <p class="hint">${w("admin.counts_agents_actions_and")}</p>
      </div>
      ${parseDuration(f.auto_end_after) > 0 && html`<${Field} id="set-auto" label=${w("admin.end_after_no_agent")} error=${errors.auto_end_after}>
        ${(p) => html`<${DurationInput} id=${p.id} describedBy=${p["aria-describedby"]} value=${f.auto_end_after}
          onChange=${(v) => set("auto_end_after", v)} />`}
      <//>`}
    </fieldset>

    <fieldset class="group">
      <legend>${w("admin.history")}</legend>
      <${Field} id="set-days" label=${w("admin.keep_sessions_in_history")} error=${errors.history_days}
        hint=${w("admin.sessions_with_no_activity")}>
        ${(p) => html`<input ...${p} type="number" min="1" max="3650" value=${f.history_days}
          onInput=${(e) => set("history_days", Number(e.currentTarget.value))} />`}
      <//>
      <${Field} id="set-space" label=${w("admin.agents_and_supervisors_may")} error=${errors.history_search_space}
        hint=${w("admin.the_widest_history_they")}>
        ${(p) => html`<select ...${p} value=${f.history_search_space} data-testid="set-space"
          onChange=${(e) => set("history_search_space", e.currentTarget.value)}>
          <option value="mine">${w("admin.their_own_sessions")}</option>
          <option value="team">${w("admin.their_team_s_sessions")}</option>
          <option value="all">${w("admin.every_session")}</option>
        </select>`}
      <//>
    </fieldset>

    <fieldset class="group">
      <legend>${w("admin.customers_files")}</legend>
      <${Field} id="set-retention" label=${w("admin.delete_the_files_of")} error=${errors.asset_retention_days}
        hint=${w("admin.signed_copies_uploads_and")}>
        ${(p) => html`<input ...${p} type="number" min="0" max="3650" value=${f.asset_retention_days || 0} data-testid="set-retention"
          onInput=${(e) => set("asset_retention_days", Number(e.currentTarget.value))} />`}
      <//>
    </fieldset>

    <fieldset class="group">
      <legend>${w("admin.phones")}</legend>
      <${Field} id="set-region" label=${w("admin.phone_numbers_without_a")} error=${errors.phone_default_region}
        hint=${w("admin.a_two_letter_region")}>
        ${(p) => html`<input ...${p} value=${f.phone_default_region} maxlength="2" class="short"
          onInput=${(e) => set("phone_default_region", e.currentTarget.value.toUpperCase())} />`}
      <//>
    </fieldset>
    <fieldset class="group">
      <legend>${w("admin.reminders_and_notices")}</legend>
      <${FollowupFields} value=${f.followups} errors=${errors} prefix="followups" Duration=${DurationInput} idp="set-fu-"
        onChange=${(v) => set("followups", v)} />
    </fieldset>
    <${SSOSettings} sso=${f.sso} errors=${errors} onChange=${(v) => set("sso", v)} />
    <${SaveBar} busy=${busy} error=${general} testid="settings-save" label=${w("admin.save_settings")} />
  </form>`;
}

// SigningIdentity shows who seals signed copies: set at start with
// --signing-cert and --signing-key, not here.
function SigningIdentity() {
  const [id, error] = useLoad("/api/signing-identity");
  return html`<section class="group signing" aria-labelledby="signing-h" data-testid="signing-identity">
    <h2 id="signing-h">${w("admin.digital_signatures")}</h2>
    ${error && html`<p class="notice notice-bad">${error}</p>`}
    ${id && html`<div>
      <p class="lead">${w("admin.every_signed_copy_is")}</p>
      ${id.self_signed && html`<p class="notice" data-testid="signing-self-signed">${w("admin.this_certificate_is_self")}</p>`}
      <dl class="facts">
        <div><dt>${w("admin.signed_as")}</dt><dd data-testid="signing-name">${id.name}</dd></div>
        <div><dt>${w("admin.certificate")}</dt><dd>${id.subject}</dd></div>
        <div><dt>${w("admin.valid_until")}</dt><dd>${when(id.not_after)}</dd></div>
        <div><dt>${w("admin.fingerprint_sha")}</dt><dd class="hash">${id.fingerprint_sha256}</dd></div>
        <div><dt>${w("admin.trusted_time")}</dt><dd>${id.timestamps ? w("admin.each_seal_carries_a") : w("admin.not_configured_seals_carry")}</dd></div>
      </dl>
    </div>`}
  </section>`;
}

// Teams -------------------------------------------------------------------

function Teams() {
  const [data, error, reload] = useLoad("/api/teams");
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState("");
  const create = async (e) => {
    e.preventDefault();
    try {
      const t = await agentApi.post("/api/teams", { name: name.trim() });
      announce(w("admin.team_created", { name: t.name }));
      go("#/admin/teams/" + encodeURIComponent(t.id));
    } catch (err) {
      setNameError(err.fields && err.fields.name ? w("admin.give_the_team_a") : plainError(err));
    }
  };
  if (error) { return html`<p class="notice notice-bad">${error} <button class="link-btn" onClick=${reload}>${w("admin.try_again")}</button></p>`; }
  return html`<div>
    <h2>${w("admin.teams")}</h2>
    <p class="lead">${w("admin.a_team_s_settings")}</p>
    <ul class="cards">
      ${(data ? data.teams : []).map((t) => html`<li key=${t.id} class="card-row">
        <a href=${"#/admin/teams/" + encodeURIComponent(t.id)} data-testid="team-item" data-id=${t.id}>
          <strong>${t.name}</strong>
          <span class="muted">${t.settings.task_templates.length} ${w("admin.task_templates")} ${t.settings.customer_authentication === "none" || !AUTH_METHOD[t.settings.customer_authentication] ? w("admin.no_identity_check") : w("admin.customers_confirm_with", { value: AUTH_METHOD[t.settings.customer_authentication] })}${t.settings.consent.required ? w("admin.consent_asked") : ""}</span>
        </a>
      </li>`)}
    </ul>
    <form class="inline-form" onSubmit=${create}>
      <${Field} id="team-new" label=${w("admin.new_team")} error=${nameError}>
        ${(p) => html`<input ...${p} value=${name} onInput=${(e) => setName(e.currentTarget.value)} maxlength="200" data-testid="team-new-name" />`}
      <//>
      <button type="submit" class="btn" data-testid="team-create"><${Icon} name="plus" /> ${w("admin.create_team")}</button>
    </form>
  </div>`;
}

const FIELD_TYPES = { text: w("admin.text"), email: w("admin.email"), phone: w("admin.phone"), date: w("admin.date"), number: w("admin.number"), select: w("admin.choice"), checkbox: w("admin.tick_box") };

// TemplateContent edits what a template's kind needs: an upload's
// instructions, a consent's text, a form's fields, a sign task's PDF.
// fieldKey makes a form field's key from its label: "Date of birth" →
// "date_of_birth" (the server's rule: a letter, then letters, digits and
// underscores, at most 40).
export function fieldKey(label) {
  const k = (label || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "_").replace(/^[^a-z]+/, "").replace(/_+$/, "");
  return k.slice(0, 40).replace(/_+$/, "");
}

// ownContent keeps of a template what its kind uses.
function ownContent(x) {
  const own = { form: ["fields"], upload: ["instructions"], consent: ["text"], sign: ["document"] }[x.kind] || [];
  const out = { kind: x.kind, title: x.title };
  for (const k of own) { if (x[k] !== undefined) { out[k] = x[k]; } }
  return out;
}

function TemplateContent({ x, i, setTask, err, doc }) {
  const id = (k) => `tt-${k}-${i}`;
  if (x.kind === "sign") { return doc; }
  if (x.kind === "upload" || x.kind === "consent") {
    const k = x.kind === "upload" ? "instructions" : "text";
    return html`<div class="template-content">
      <label for=${id(k)}>${x.kind === "upload" ? w("admin.what_to_send") : w("admin.text_the_customer_agrees")}</label>
      <textarea id=${id(k)} rows="2" maxlength="10000" value=${x[k] || ""} onInput=${(e) => setTask(i, k, e.currentTarget.value)}></textarea>
      ${err(`task_templates[${i}].${k}`) && html`<p class="field-error">${err(`task_templates[${i}].${k}`)}</p>`}
    </div>`;
  }
  if (x.kind !== "form") { return null; }
  const fields = x.fields || [];
  const setField = (j, k, v) => setTask(i, "fields", fields.map((f, n) => (n === j ? { ...f, [k]: v } : f)));
  // The key follows the label while nobody has typed a key of their own.
  const setLabel = (j, v) => setTask(i, "fields", fields.map((f, n) => (n !== j ? f
    : { ...f, label: v, name: !f.name || f.name === fieldKey(f.label) ? fieldKey(v) : f.name })));
  const path = (j, k) => `task_templates[${i}].fields[${j}].${k}`;
  // Each input of a field has its error right under it, tied to it for
  // screen readers.
  const pid = (j, k) => `tt-${i}-f${j}-${k}`;
  const a11y = (j, k) => {
    const e = err(path(j, k));
    return { id: pid(j, k), "aria-invalid": e ? "true" : undefined, "aria-describedby": e ? pid(j, k) + "-err" : undefined };
  };
  const part = (j, k, label, control) => html`<div class="ff-part">
    <label for=${pid(j, k)}>${label}</label>${control}
    ${err(path(j, k)) && html`<p class="field-error" id=${pid(j, k) + "-err"} data-testid="field-part-error">${err(path(j, k))}</p>`}
  </div>`;
  return html`<div class="template-content">
    <p class="hint">${w("admin.fields_the_customer_fills")}</p>
    ${fields.map((f, j) => html`<fieldset class="form-field-edit" key=${j}>
      <legend>${w("admin.field")} ${j + 1}</legend>
      ${part(j, "label", w("admin.label"), html`<input ...${a11y(j, "label")} value=${f.label} maxlength="200" data-testid="field-label"
        onInput=${(e) => setLabel(j, e.currentTarget.value)} />`)}
      ${part(j, "name", w("admin.key"), html`<input ...${a11y(j, "name")} value=${f.name} maxlength="40" placeholder=${w("admin.policy_number")} data-testid="field-key"
        onInput=${(e) => setField(j, "name", e.currentTarget.value)} />`)}
      ${part(j, "type", w("admin.type"), html`<select ...${a11y(j, "type")} value=${f.type} onChange=${(e) => setField(j, "type", e.currentTarget.value)}>
        ${Object.entries(FIELD_TYPES).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}</select>`)}
      <label class="check"><input type="checkbox" checked=${!!f.required} onChange=${(e) => setField(j, "required", e.currentTarget.checked)} /> ${w("admin.required")}</label>
      ${(f.type === "text" || f.type === "phone") && part(j, "pattern", w("admin.pattern"), html`<input ...${a11y(j, "pattern")} value=${f.pattern || ""}
        onInput=${(e) => setField(j, "pattern", e.currentTarget.value)} />`)}
      ${(f.type === "number" || f.type === "date") && html`
        ${part(j, "min", w("admin.min"), html`<input ...${a11y(j, "min")} value=${f.min || ""} onInput=${(e) => setField(j, "min", e.currentTarget.value)} />`)}
        ${part(j, "max", w("admin.max"), html`<input ...${a11y(j, "max")} value=${f.max || ""} onInput=${(e) => setField(j, "max", e.currentTarget.value)} />`)}`}
      ${f.type === "select" && part(j, "options", w("admin.choices_one_per_line"), html`<textarea ...${a11y(j, "options")} rows="3" value=${(f.options || []).join("\n")}
        onInput=${(e) => setField(j, "options", e.currentTarget.value.split("\n").map((o) => o.trim()).filter(Boolean))}></textarea>`)}
      ${part(j, "help", w("admin.help"), html`<input ...${a11y(j, "help")} value=${f.help || ""} maxlength="500" onInput=${(e) => setField(j, "help", e.currentTarget.value)} />`)}
      <button type="button" class="btn btn-small" onClick=${() => setTask(i, "fields", fields.filter((_, n) => n !== j))}>${w("admin.remove_field")}</button>
    </fieldset>`)}
    <button type="button" class="btn btn-small" onClick=${() => setTask(i, "fields", [...fields, { name: "", label: "", type: "text" }])}>
      <${Icon} name="plus" /> ${w("admin.add_a_field")}</button>
  </div>`;
}

// renderTemplate is the server's template rule (notify.Render): {{link}},
// {{agent}} and {{customer}} replaced, the link appended when missing.
export function renderTemplate(tpl, v) {
  const vals = { link: v.link, agent: v.agent, customer: v.customer || "there" };
  const out = String(tpl).replace(/\{\{(link|agent|customer)\}\}/g, (m, k) => vals[k]);
  if (String(tpl).includes("{{link}}") || !v.link) { return out; }
  if (out.includes("\n")) { return out.replace(/\n+$/, "") + "\n\n" + v.link; }
  return out + " " + v.link;
}

function fileSize(n) {
  return n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
}

// TemplatePdf shows a saved sign template's PDF with Upload, Replace and
// Remove. The file goes to the server at once, by the template's place
// in the saved team: a template not saved as it reads (added, moved,
// renamed) asks to save first, so the PDF never lands on another one.
function TemplatePdf({ teamId, i, x, saved, onSaved }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const input = useRef(null);
  const stored = saved.settings.task_templates[i];
  if (!stored || stored.kind !== "sign" || stored.title !== x.title) {
    return html`<p class="hint template-content">${w("admin.save_the_team_then")}</p>`;
  }
  const path = `/api/teams/${encodeURIComponent(teamId)}/templates/${i}/document`;
  const run = async (call, said) => {
    setBusy(true);
    setError("");
    try {
      const team = await call();
      onSaved(team, i);
      announce(said);
    } catch (ex) {
      setError(ex.code === "invalid_document" ? w("admin.that_file_is_not") : plainError(ex));
    } finally {
      setBusy(false);
      if (input.current) { input.current.value = ""; }
    }
  };
  const pick = (e) => {
    const f = e.currentTarget.files[0];
    if (f) { run(() => agentApi.upload(path, f), w("admin.is_now_the_pdf", { name: f.name, title: x.title })); }
  };
  const d = x.document;
  return html`<div class="template-content" data-testid=${"tt-pdf-" + i}>
    ${d ? html`<p data-testid="tt-pdf-name">${wx("admin.pdf_to_sign_each", { name: d.name, file_size: fileSize(d.size) })}</p>`
      : html`<p class="hint">${w("admin.no_pdf_yet_the")}</p>`}
    <button type="button" class="btn btn-small" disabled=${busy} data-testid="tt-pdf-pick" aria-label=${w("admin.of", { value: d ? w("admin.replace_the_pdf") : w("admin.upload_a_pdf"), value_b: x.title || "template " + (i + 1) })}
      onClick=${() => input.current && input.current.click()}>${d ? w("admin.replace_the_pdf") : w("admin.upload_a_pdf")}</button>
    <input class="sr-only" type="file" accept="application/pdf" tabindex="-1" aria-hidden="true" ref=${input} data-testid="tt-pdf-file" onChange=${pick} />
    ${d && html` <button type="button" class="btn btn-small" disabled=${busy} data-testid="tt-pdf-remove"
      aria-label=${w("admin.remove_the_pdf_of", { value: x.title || "template " + (i + 1) })}
      onClick=${() => run(() => agentApi.del(path), w("admin.the_pdf_of_was", { title: x.title }))}>${w("admin.remove_the_pdf")}</button>`}
    ${busy && html`<p class="muted small" role="status">${w("admin.sending")}</p>`}
    ${error && html`<p class="field-error" role="alert">${error}</p>`}
  </div>`;
}

function TeamEditor({ id }) {
  const [data, loadError] = useLoad("/api/teams/" + encodeURIComponent(id));
  const [t, setT] = useState(null);
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const [general, setGeneral] = useState("");
  const [saved, setSaved] = useState(null);
  useEffect(() => { if (data) { setT(data); setSaved(data); } }, [data]);
  if (loadError) { return html`<p class="notice notice-bad">${loadError}</p>`; }
  if (!t) { return html`<p class="muted">${w("admin.loading")}</p>`; }
  const st = t.settings;
  const setS = (k, v) => setT({ ...t, settings: { ...st, [k]: v } });
  const setTpl = (k, v) => setS("templates", { ...st.templates, [k]: v });
  const tasks = st.task_templates;
  // A new kind starts without the old kind's content (only a form has fields).
  // Switching a template's kind keeps what was typed for the other kind
  // (switch back and it is there); saving sends only the kind's own.
  const setTask = (i, k, v) => setS("task_templates", tasks.map((x, j) => (j !== i ? x : { ...x, [k]: v })));
  // A template's PDF is stored at once: the editor keeps its other,
  // unsaved changes and takes only that template's document.
  const pdfSaved = (team, i) => {
    setSaved({ ...saved, settings: { ...saved.settings, task_templates: team.settings.task_templates } });
    setS("task_templates", tasks.map((x, j) => (j !== i ? x : { ...x, document: team.settings.task_templates[i].document })));
  };
  const sample = { link: location.origin + "/c/3f9a…", agent: w("admin.alex_rivera"), customer: w("admin.dana_whitfield") };
  const err = (k) => errors["settings." + k];
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setGeneral("");
    try {
      const body = { ...t, settings: { ...t.settings, task_templates: t.settings.task_templates.map(ownContent) } };
      const out = await agentApi.put("/api/teams/" + encodeURIComponent(id), body);
      setT(out);
      setSaved(out);
      setErrors({});
      announce(w("admin.saved_new_sessions_and", { name: out.name }));
    } catch (ex) {
      setErrors(fieldErrors(ex));
      focusInvalid(e.target);
      setGeneral(ex.code === "validation_failed" ? w("admin.some_settings_need_a") : plainError(ex));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="admin-form team-form" onSubmit=${submit} novalidate data-testid="team-form">
    <p><a href="#/admin/teams" class="link-btn">${w("admin.all_teams")}</a></p>
    <h2>${t.name}</h2>
    <${Field} id="team-name" label=${w("admin.team_name")} error=${errors.name}>
      ${(p) => html`<input ...${p} value=${t.name} maxlength="200" onInput=${(e) => setT({ ...t, name: e.currentTarget.value })} />`}
    <//>

    <fieldset class="group">
      <legend>${w("admin.how_customers_confirm_who")}</legend>
      ${[["none", w("admin.no_check_the_link")], ["otp", w("admin.a_one_time_code")],
        ["pin", w("admin.a_pin_the_agent")]].map(([k, label]) => html`
        <label class="radio" key=${k}><input type="radio" name="auth" value=${k} checked=${st.customer_authentication === k}
          data-testid=${"team-auth-" + k} onChange=${() => setS("customer_authentication", k)} /> ${label}</label>`)}
      <p class="hint">${w("admin.five_wrong_answers_lock")}</p>
    </fieldset>

    <fieldset class="group">
      <legend>${w("admin.consent")}</legend>
      <div class="field check">
        <label><input type="checkbox" checked=${st.consent.required} data-testid="team-consent-required"
          onChange=${(e) => setS("consent", { ...st.consent, required: e.currentTarget.checked })} /> ${w("admin.ask_customers_to_agree")}</label>
      </div>
      <${Field} id="team-consent" label=${w("admin.what_the_customer_agrees")} error=${err("consent.text")}
        hint=${w("admin.shown_word_for_word")}>
        ${(p) => html`<textarea ...${p} rows="3" data-testid="consent-text" value=${st.consent.text}
          onInput=${(e) => setS("consent", { ...st.consent, text: e.currentTarget.value })}></textarea>`}
      <//>
    </fieldset>

    <fieldset class="group">
      <legend>${w("admin.task_templates_b")}</legend>
      <p class="hint">${w("admin.agents_assign_these_with")}</p>
      <ol class="template-list">
        ${tasks.map((x, i) => html`<li key=${i} class="template-row">
          <label class="sr-only" for=${"tt-kind-" + i}>${w("admin.kind_of_task")} ${i + 1}</label>
          <select id=${"tt-kind-" + i} value=${x.kind} onChange=${(e) => setTask(i, "kind", e.currentTarget.value)}>
            ${Object.entries(TASK_KINDS).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}
          </select>
          <label class="sr-only" for=${"tt-title-" + i}>${w("admin.title_of_task")} ${i + 1}</label>
          <input id=${"tt-title-" + i} value=${x.title} maxlength="200" aria-invalid=${err(`task_templates[${i}].title`) ? "true" : undefined}
            onInput=${(e) => setTask(i, "title", e.currentTarget.value)} />
          <button type="button" class="icon-btn" aria-label=${w("admin.remove", { value: x.title || "template " + (i + 1) })}
            onClick=${() => setS("task_templates", tasks.filter((_, j) => j !== i))}><${Icon} name="trash" /></button>
          ${err(`task_templates[${i}].title`) && html`<p class="field-error">${err(`task_templates[${i}].title`)}</p>`}
          <${TemplateContent} x=${x} i=${i} setTask=${setTask} err=${err}
            doc=${html`<${TemplatePdf} teamId=${id} i=${i} x=${x} saved=${saved} onSaved=${pdfSaved} />`} />
        </li>`)}
      </ol>
      <button type="button" class="btn" data-testid="template-add"
        onClick=${() => setS("task_templates", [...tasks, { kind: "sign", title: "" }])}><${Icon} name="plus" /> ${w("admin.add_a_template")}</button>
    </fieldset>

    <fieldset class="group">
      <legend>${w("admin.invitation")}</legend>
      <p class="hint">${w("admin.placeholders")} <code>${w("admin.text_b")}</code> ${w("admin.the_customer_s_link")} <code>${w("admin.text_b_b")}</code> ${w("admin.the_agent_s_name")}
        <code>${w("admin.text_b_b_b")}</code> ${w("admin.the_customer_s_name")} <code>${w("admin.text_b")}</code>${w("admin.the_link_is_added")}</p>
      <div class="template-grid">
        <div>
          <${Field} id="tpl-subject" label=${w("admin.email_subject")} error=${err("templates.email_subject")}>
            ${(p) => html`<input ...${p} value=${st.templates.email_subject} onInput=${(e) => setTpl("email_subject", e.currentTarget.value)} />`}
          <//>
          <${Field} id="tpl-body" label=${w("admin.email_text")} error=${err("templates.email_body")}>
            ${(p) => html`<textarea ...${p} rows="6" value=${st.templates.email_body} onInput=${(e) => setTpl("email_body", e.currentTarget.value)}></textarea>`}
          <//>
          <${Field} id="tpl-sms" label=${w("admin.text_message")} error=${err("templates.sms_body")}>
            ${(p) => html`<textarea ...${p} rows="3" value=${st.templates.sms_body} onInput=${(e) => setTpl("sms_body", e.currentTarget.value)}></textarea>`}
          <//>
        </div>
        <div class="preview" aria-label=${w("admin.preview")} data-testid="template-preview">
          <p class="preview-title">${w("admin.preview_alex_rivera_invites")}</p>
          <div class="preview-mail">
            <p class="preview-subject">${renderTemplate(st.templates.email_subject, { ...sample, link: "" })}</p>
            <p class="preview-text">${renderTemplate(st.templates.email_body, sample)}</p>
          </div>
          <div class="preview-sms"><p class="preview-text">${renderTemplate(st.templates.sms_body, sample)}</p></div>
          <p class="preview-title">${w("admin.then_on_the_customer")}</p>
          <ol class="preview-steps">
            ${st.customer_authentication !== "none" && html`<li>${wx("admin.they_confirm_who_they", { value: AUTH_METHOD[st.customer_authentication] })}</li>`}
            ${st.consent.required && html`<li>${wx("admin.they_read_and_choose", { value: st.consent.text || "…" })}</li>`}
            <li>${wx("admin.they_meet_their_agent", { value: tasks.length ? w("admin.with_tasks_such_as", { value: tasks[0].title || "…" }) : "" })}</li>
          </ol>
        </div>
      </div>
    </fieldset>

    <${TeamLanguages} st=${st} setS=${setS} err=${err} />

    <fieldset class="group">
      <legend>${w("admin.overrides_of_the_org")}</legend>
      <div class="field check">
        <label><input type="checkbox" checked=${!!st.customer_access_duration}
          onChange=${(e) => setS("customer_access_duration", e.currentTarget.checked ? "72h" : undefined)} /> ${w("admin.links_of_this_team")}</label>
      </div>
      ${st.customer_access_duration && html`<${Field} id="team-life" label=${w("admin.links_work_for")} error=${err("customer_access_duration")}>
        ${(p) => html`<${DurationInput} id=${p.id} describedBy=${p["aria-describedby"]} value=${st.customer_access_duration}
          onChange=${(v) => setS("customer_access_duration", v)} />`}
      <//>`}
      <div class="field check">
        <label><input type="checkbox" checked=${!!st.end_session_access}
          onChange=${(e) => setS("end_session_access", e.currentTarget.checked ? { mode: "limited_for", duration: "72h" } : undefined)} /> ${w("admin.customers_of_this_team")}</label>
      </div>
      ${st.end_session_access && html`<${Field} id="team-end" label=${w("admin.what_the_customer_keeps")} error=${err("end_session_access.mode")}
          hint=${endAccessWords(st.end_session_access)}>
        ${(p) => html`<select ...${p} value=${st.end_session_access.mode}
          onChange=${(e) => setS("end_session_access", { ...st.end_session_access, mode: e.currentTarget.value })}>
          ${Object.entries(END_MODES).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}
        </select>`}
      <//>`}
      ${st.end_session_access && (st.end_session_access.mode === "full_for" || st.end_session_access.mode === "limited_for") && html`
        <${Field} id="team-end-d" label=${w("admin.for_how_long")} error=${err("end_session_access.duration")}>
          ${(p) => html`<${DurationInput} id=${p.id} describedBy=${p["aria-describedby"]} value=${st.end_session_access.duration || "72h"}
            onChange=${(v) => setS("end_session_access", { ...st.end_session_access, duration: v })} />`}
        <//>`}
      <div class="field check">
        <label><input type="checkbox" checked=${!!st.followups} data-testid="team-fu-own"
          onChange=${(e) => setS("followups", e.currentTarget.checked ? FOLLOWUP_DEFAULTS : undefined)} /> ${w("admin.this_team_s_customers")}</label>
      </div>
      ${st.followups && html`<${FollowupFields} value=${st.followups} errors=${errors} prefix="settings.followups" Duration=${DurationInput}
        idp="team-fu-" onChange=${(v) => setS("followups", v)} />`}
    </fieldset>
    <${SaveBar} busy=${busy} error=${general} testid="team-save" label=${w("admin.save_team")} />
  </form>`;
}

// Agents ------------------------------------------------------------------

const ROLES = { agent: w("admin.agent"), supervisor: w("admin.supervisor"), admin: w("admin.admin") };

function Agents() {
  const [data, error, reload] = useLoad("/api/agents");
  const [teams] = useLoad("/api/teams");
  const [editing, setEditing] = useState(null); // agent, or {} for a new one
  const names = Object.fromEntries(((teams && teams.teams) || []).map((t) => [t.id, t.name]));
  const list = (data && data.agents) || [];
  const canDisable = list.some((x) => "disabled" in x);
  if (error) { return html`<p class="notice notice-bad">${error} <button class="link-btn" onClick=${reload}>${w("admin.try_again")}</button></p>`; }
  return html`<div>
    <div class="section-head">
      <h2>${w("admin.agents")}</h2>
      <button type="button" class="btn btn-primary" data-testid="agent-add" onClick=${() => setEditing({})}><${Icon} name="plus" /> ${w("admin.add_an_agent")}</button>
    </div>
    <p class="lead">${w("admin.agents_act_on_their")}</p>
    <div class="table-wrap"><table class="table" data-testid="agent-table">
      <thead><tr><th scope="col">${w("admin.name")}</th><th scope="col">${w("admin.email")}</th><th scope="col">${w("admin.role")}</th><th scope="col">${w("admin.home_team")}</th>
        <th scope="col">${w("admin.also_uses_the_settings")}</th>${canDisable && html`<th scope="col">${w("admin.status")}</th>`}<th scope="col"><span class="sr-only">${w("admin.actions")}</span></th></tr></thead>
      <tbody>
        ${list.map((x) => html`<tr key=${x.id} data-testid="agent-row" data-email=${x.email} class=${cx(x.disabled && "row-disabled")}>
          <td>${x.name}</td><td>${x.email}</td><td>${ROLES[x.role] || x.role}</td><td>${names[x.team_id] || "—"}</td>
          <td>${(x.settings_team_ids || []).map((id) => names[id] || id).join(", ") || "—"}</td>
          ${canDisable && html`<td>${x.disabled ? w("admin.disabled") : w("admin.active")}</td>`}
          <td><button type="button" class="link-btn" onClick=${() => setEditing(x)} aria-label=${w("admin.edit_name", { name: x.name })}>${w("admin.edit")}</button></td>
        </tr>`)}
      </tbody>
    </table></div>
    ${editing && html`<${AgentDialog} agent=${editing} teams=${(teams && teams.teams) || []} canDisable=${canDisable}
      onClose=${() => setEditing(null)} onSaved=${() => { setEditing(null); reload(); }} />`}
  </div>`;
}

function AgentDialog({ agent, teams, canDisable, onClose, onSaved }) {
  const isNew = !agent.id;
  const [f, setF] = useState({
    name: agent.name || "", email: agent.email || "", role: agent.role || "agent", team_id: agent.team_id || (teams[0] ? teams[0].id : ""),
    settings_team_ids: agent.settings_team_ids || [], password: "", disabled: !!agent.disabled,
  });
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);
  // The teams may arrive after the dialog opened: a new agent's home team
  // is then the first of them, as if they had been there from the start.
  useEffect(() => {
    if (isNew && !f.team_id && teams[0]) { setF((cur) => (cur.team_id ? cur : { ...cur, team_id: teams[0].id })); }
  }, [teams]);
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const toggleTeam = (id) => setF({ ...f, settings_team_ids: f.settings_team_ids.includes(id)
    ? f.settings_team_ids.filter((x) => x !== id) : [...f.settings_team_ids, id] });
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setGeneral("");
    const body = { id: agent.id, email: f.email.trim(), name: f.name.trim(), role: f.role, team_id: f.team_id,
      settings_team_ids: f.settings_team_ids.filter((x) => x !== f.team_id) };
    if (isNew) { delete body.id; }
    if (canDisable || "disabled" in agent) { body.disabled = f.disabled; }
    if (f.password) { body.password = f.password; }
    try {
      if (isNew) {
        await agentApi.post("/api/agents", body);
        announce(w("admin.can_now_sign_in", { name: body.name }));
      } else {
        await agentApi.put("/api/agents/" + encodeURIComponent(agent.id), body);
        announce(w("admin.saved", { name: body.name }));
      }
      onSaved();
    } catch (err) {
      const fe = fieldErrors(err);
      if (err.code === "email_taken") { fe.email = w("admin.another_account_already_uses"); }
      setErrors(fe);
      setGeneral(err.code === "validation_failed" || err.code === "email_taken" ? "" : plainError(err));
      setBusy(false);
    }
  };
  return html`<${Dialog} title=${isNew ? w("admin.add_an_agent") : w("admin.edit_name", { name: agent.name })} onClose=${onClose} cls="dialog-form" testid="agent-dialog">
    <form onSubmit=${submit} novalidate>
      <${Field} id="ag-name" label=${w("admin.name")} error=${errors.name}>
        ${(p) => html`<input ...${p} value=${f.name} onInput=${set("name")} data-testid="agent-name" />`}
      <//>
      <${Field} id="ag-email" label=${w("admin.email_their_sign_in")} error=${errors.email}>
        ${(p) => html`<input ...${p} type="email" value=${f.email} onInput=${set("email")} data-testid="agent-email" autocomplete="off" />`}
      <//>
      <${Field} id="ag-password" label=${isNew ? w("admin.password") : w("admin.new_password")} error=${errors.password}
        hint=${isNew ? w("admin.at_least_characters_give") : w("admin.leave_empty_to_keep")}>
        ${(p) => html`<input ...${p} type="password" value=${f.password} onInput=${set("password")} autocomplete="new-password" data-testid="agent-password" />`}
      <//>
      <${Field} id="ag-role" label=${w("admin.role")} error=${errors.role}
        hint=${w("admin.agents_act_on_their_b")}>
        ${(p) => html`<select ...${p} value=${f.role} onChange=${set("role")} data-testid="agent-role">
          ${Object.entries(ROLES).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}
        </select>`}
      <//>
      <${Field} id="ag-team" label=${w("admin.home_team")} error=${errors.team_id} hint=${w("admin.their_sessions_belong_to")}>
        ${(p) => html`<select ...${p} value=${f.team_id} onChange=${set("team_id")} data-testid="agent-team">
          ${f.role === "admin" && html`<option value="">${w("admin.no_team")}</option>`}
          ${teams.map((t) => html`<option key=${t.id} value=${t.id}>${t.name}</option>`)}
        </select>`}
      <//>
      <fieldset class="group-plain">
        <legend>${w("admin.may_also_use_the")}</legend>
        ${teams.filter((t) => t.id !== f.team_id).map((t) => html`<label class="check" key=${t.id}>
          <input type="checkbox" checked=${f.settings_team_ids.includes(t.id)} onChange=${() => toggleTeam(t.id)} /> ${t.name}</label>`)}
      </fieldset>
      ${(canDisable || "disabled" in agent) && !isNew && html`<div class="field check">
        <label><input type="checkbox" checked=${f.disabled} onChange=${(e) => setF({ ...f, disabled: e.currentTarget.checked })}
          data-testid="agent-disabled" /> ${w("admin.disabled_cannot_sign_in")}</label>
      </div>`}
      ${general && html`<p class="notice notice-bad" role="alert">${general}</p>`}
      <div class="dialog-actions">
        <button type="button" class="btn" onClick=${onClose}>${w("admin.cancel")}</button>
        <button type="submit" class="btn btn-primary" data-testid="agent-save" disabled=${busy}>${isNew ? w("admin.add_the_agent") : w("admin.save")}</button>
      </div>
    </form>
  <//>`;
}

// Outbox ------------------------------------------------------------------

// Linked shows a text with its web addresses as links (built as elements,
// never as HTML).
function Linked({ text }) {
  const parts = String(text).split(/(https?:\/\/[^\s]+)/g);
  return parts.map((p, i) => (i % 2 === 1
    ? html`<a key=${i} href=${p} target="_blank" rel="noopener noreferrer">${p}</a>`
    : p));
}

function Outbox() {
  const [data, error, reload] = useLoad("/api/outbox");
  const timer = useRef(0);
  useEffect(() => {
    timer.current = setInterval(reload, 10000);
    return () => clearInterval(timer.current);
  }, []);
  const list = (data && data.messages) || [];
  return html`<div>
    <div class="section-head">
      <h2>${w("admin.outbox")}</h2>
      <button type="button" class="btn" onClick=${reload}><${Icon} name="refresh" /> ${w("admin.refresh")}</button>
    </div>
    <p class="lead">${w("admin.invitations_and_codes_cohub")}</p>
    ${error && html`<p class="notice notice-bad">${error}</p>`}
    ${list.length === 0 && !error && html`<p class="muted">${w("admin.nothing_sent_yet")}</p>`}
    <ul class="outbox" data-testid="outbox-list">
      ${list.map((msg, i) => html`<li key=${i} class="outbox-item" data-testid="outbox-item">
        <p class="outbox-head"><span class="badge">${msg.channel === "sms" ? w("admin.text_message") : w("admin.email")}</span>
          <strong>${msg.to}</strong> <time class="muted" datetime=${msg.at}>${when(msg.at)}</time></p>
        ${msg.subject && html`<p class="outbox-subject">${msg.subject}</p>`}
        <p class="outbox-body"><${Linked} text=${msg.body} /></p>
        ${msg.session_id && html`<p class="small"><a href=${"#/s/" + encodeURIComponent(msg.session_id)}>${w("admin.open_the_session")}</a></p>`}
      </li>`)}
    </ul>
  </div>`;
}
