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

const PAGES = [["settings", "Org settings"], ["teams", "Teams"], ["agents", "Agents"], ["keys", "API keys"], ["webhooks", "Webhooks"], ["outbox", "Outbox"]];

export function AdminView() {
  const r = route.value;
  const page = r.page;
  return html`<section class="admin" aria-labelledby="admin-h">
    <div class="admin-head">
      <h1 id="admin-h">Administration</h1>
      <nav aria-label="Administration" class="tabs">
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
    <label class="sr-only" for=${id + "-unit"}>Unit</label>
    <select id=${id + "-unit"} value=${d.unit} onChange=${(e) => onChange(joinDuration(d.n, e.currentTarget.value))}>
      <option value="m">minutes</option><option value="h">hours</option><option value="d">days</option>
    </select>
  </span>`;
}

function SaveBar({ busy, error, testid, label = "Save" }) {
  return html`<div class="save-bar">
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    <button type="submit" class="btn btn-primary" data-testid=${testid} disabled=${busy}>${busy ? "Saving…" : label}</button>
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
  if (!f) { return html`<p class="muted">Loading…</p>`; }
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
      announce("Org settings saved. They apply to new actions from now on.");
    } catch (err) {
      setErrors(fieldErrors(err));
      setGeneral(err.code === "validation_failed" ? "Some settings need a look: see the messages next to them." : plainError(err));
      focusInvalid(e.target);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="admin-form" onSubmit=${submit} novalidate data-testid="settings-form">
    <h2>Org settings</h2>
    <p class="lead">These apply to every team, unless a team sets its own link lifetime, end-of-session access or reminders.</p>

    <fieldset class="group">
      <legend>Invitations</legend>
      <div class="field check">
        <label><input type="checkbox" checked=${f.sms_enabled} data-testid="set-sms"
          onChange=${(e) => set("sms_enabled", e.currentTarget.checked)} /> Invite by text message (SMS)</label>
        <p class="hint">When off, agents invite by email only, and the phone choice leaves the new session form.</p>
      </div>
      <div class="field">
        <span class="label">Who sends invitations</span>
        <label class="radio"><input type="radio" name="invmode" value="builtin" checked=${f.invitation_mode === "builtin"}
          onChange=${() => set("invitation_mode", "builtin")} /> Cohub sends them, by email or text message</label>
        <label class="radio"><input type="radio" name="invmode" value="external" checked=${f.invitation_mode === "external"}
          onChange=${() => set("invitation_mode", "external")} data-testid="set-external" /> We send them ourselves: agents copy the session URL, and may enter both an email and a phone</label>
        ${errors.invitation_mode && html`<p class="field-error">${errors.invitation_mode}</p>`}
      </div>
      <${Field} id="set-life" label="Customer links work for" error=${errors.customer_access_duration}
        hint="After this, a link shows “link expired” and lets the customer ask for a new one, sent to the contact on file.">
        ${(p) => html`<${DurationInput} id=${p.id} describedBy=${p["aria-describedby"]} invalid=${p["aria-invalid"]}
          value=${f.customer_access_duration} onChange=${(v) => set("customer_access_duration", v)} />`}
      <//>
    </fieldset>

    <fieldset class="group">
      <legend>When a session ends</legend>
      <${Field} id="set-end" label="What the customer keeps" error=${errors["end_session_access.mode"]}
        hint=${endAccessWords(access) || "Pick one."}>
        ${(p) => html`<select ...${p} value=${access.mode} data-testid="set-end-mode"
          onChange=${(e) => set("end_session_access", { ...access, mode: e.currentTarget.value, duration: access.duration && access.duration !== "0s" ? access.duration : "72h" })}>
          ${Object.entries(END_MODES).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}
        </select>`}
      <//>
      ${(access.mode === "full_for" || access.mode === "limited_for") && html`<${Field} id="set-end-d" label="For how long"
          error=${errors["end_session_access.duration"]}>
        ${(p) => html`<${DurationInput} id=${p.id} describedBy=${p["aria-describedby"]} value=${access.duration}
          onChange=${(v) => set("end_session_access", { ...access, duration: v })} />`}
      <//>`}
      <div class="field check">
        <label><input type="checkbox" checked=${parseDuration(f.auto_end_after) > 0}
          onChange=${(e) => set("auto_end_after", e.currentTarget.checked ? "8h" : "0s")} /> End sessions by themselves when agents leave them idle</label>
        <p class="hint">Counts agents' actions and messages; reading a session does not count.</p>
      </div>
      ${parseDuration(f.auto_end_after) > 0 && html`<${Field} id="set-auto" label="End after no agent activity for" error=${errors.auto_end_after}>
        ${(p) => html`<${DurationInput} id=${p.id} describedBy=${p["aria-describedby"]} value=${f.auto_end_after}
          onChange=${(v) => set("auto_end_after", v)} />`}
      <//>`}
    </fieldset>

    <fieldset class="group">
      <legend>History</legend>
      <${Field} id="set-days" label="Keep sessions in history for (days)" error=${errors.history_days}
        hint="Sessions with no activity for longer leave the history panel (1 to 3650 days).">
        ${(p) => html`<input ...${p} type="number" min="1" max="3650" value=${f.history_days}
          onInput=${(e) => set("history_days", Number(e.currentTarget.value))} />`}
      <//>
      <${Field} id="set-space" label="Agents and supervisors may see" error=${errors.history_search_space}
        hint="The widest history they may open: their own sessions, their team's, or everyone's. Admins see all.">
        ${(p) => html`<select ...${p} value=${f.history_search_space} data-testid="set-space"
          onChange=${(e) => set("history_search_space", e.currentTarget.value)}>
          <option value="mine">Their own sessions</option>
          <option value="team">Their team's sessions</option>
          <option value="all">Every session</option>
        </select>`}
      <//>
    </fieldset>

    <fieldset class="group">
      <legend>Customers' files</legend>
      <${Field} id="set-retention" label="Delete the files of ended sessions after (days)" error=${errors.asset_retention_days}
        hint="Signed copies, uploads and attached documents of sessions ended longer ago are deleted; their records stay. 0 keeps them (0 to 3650 days).">
        ${(p) => html`<input ...${p} type="number" min="0" max="3650" value=${f.asset_retention_days || 0} data-testid="set-retention"
          onInput=${(e) => set("asset_retention_days", Number(e.currentTarget.value))} />`}
      <//>
    </fieldset>

    <fieldset class="group">
      <legend>Phones</legend>
      <${Field} id="set-region" label="Phone numbers without a country code are from" error=${errors.phone_default_region}
        hint="A two-letter region code, such as US, GB or FR.">
        ${(p) => html`<input ...${p} value=${f.phone_default_region} maxlength="2" class="short"
          onInput=${(e) => set("phone_default_region", e.currentTarget.value.toUpperCase())} />`}
      <//>
    </fieldset>
    <fieldset class="group">
      <legend>Reminders and notices</legend>
      <${FollowupFields} value=${f.followups} errors=${errors} prefix="followups" Duration=${DurationInput} idp="set-fu-"
        onChange=${(v) => set("followups", v)} />
    </fieldset>
    <${SSOSettings} sso=${f.sso} errors=${errors} onChange=${(v) => set("sso", v)} />
    <${SaveBar} busy=${busy} error=${general} testid="settings-save" label="Save settings" />
  </form>`;
}

// SigningIdentity shows who seals signed copies: set at start with
// --signing-cert and --signing-key, not here.
function SigningIdentity() {
  const [id, error] = useLoad("/api/signing-identity");
  return html`<section class="group signing" aria-labelledby="signing-h" data-testid="signing-identity">
    <h2 id="signing-h">Digital signatures</h2>
    ${error && html`<p class="notice notice-bad">${error}</p>`}
    ${id && html`<div>
      <p class="lead">Every signed copy is sealed with this certificate, so anyone can check it was not changed after signing.</p>
      ${id.self_signed && html`<p class="notice" data-testid="signing-self-signed">This certificate is self-signed: readers show the seal intact but its signer unknown. Your administrator can start Cohub with your organisation's certificate (--signing-cert and --signing-key).</p>`}
      <dl class="facts">
        <div><dt>Signed as</dt><dd data-testid="signing-name">${id.name}</dd></div>
        <div><dt>Certificate</dt><dd>${id.subject}</dd></div>
        <div><dt>Valid until</dt><dd>${when(id.not_after)}</dd></div>
        <div><dt>Fingerprint (SHA-256)</dt><dd class="hash">${id.fingerprint_sha256}</dd></div>
        <div><dt>Trusted time</dt><dd>${id.timestamps ? "Each seal carries a time-stamping authority's time" : "Not configured: seals carry the server's clock only (--tsa-url)"}</dd></div>
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
      announce(`Team ${t.name} created.`);
      go("#/admin/teams/" + encodeURIComponent(t.id));
    } catch (err) {
      setNameError(err.fields && err.fields.name ? "Give the team a name (at most 200 characters)." : plainError(err));
    }
  };
  if (error) { return html`<p class="notice notice-bad">${error} <button class="link-btn" onClick=${reload}>Try again</button></p>`; }
  return html`<div>
    <h2>Teams</h2>
    <p class="lead">A team's settings decide the task templates, how its customers confirm who they are, the consent they give, and the invitation texts.</p>
    <ul class="cards">
      ${(data ? data.teams : []).map((t) => html`<li key=${t.id} class="card-row">
        <a href=${"#/admin/teams/" + encodeURIComponent(t.id)} data-testid="team-item" data-id=${t.id}>
          <strong>${t.name}</strong>
          <span class="muted">${t.settings.task_templates.length} task templates · ${t.settings.customer_authentication === "none" || !AUTH_METHOD[t.settings.customer_authentication] ? "no identity check" : `customers confirm with ${AUTH_METHOD[t.settings.customer_authentication]}`}${t.settings.consent.required ? " · consent asked" : ""}</span>
        </a>
      </li>`)}
    </ul>
    <form class="inline-form" onSubmit=${create}>
      <${Field} id="team-new" label="New team" error=${nameError}>
        ${(p) => html`<input ...${p} value=${name} onInput=${(e) => setName(e.currentTarget.value)} maxlength="200" data-testid="team-new-name" />`}
      <//>
      <button type="submit" class="btn" data-testid="team-create"><${Icon} name="plus" /> Create team</button>
    </form>
  </div>`;
}

const FIELD_TYPES = { text: "Text", email: "Email", phone: "Phone", date: "Date", number: "Number", select: "Choice", checkbox: "Tick box" };

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
      <label for=${id(k)}>${x.kind === "upload" ? "What to send" : "Text the customer agrees to"}</label>
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
    <p class="hint">Fields the customer fills in. A pattern is a regular expression the whole answer must match.</p>
    ${fields.map((f, j) => html`<fieldset class="form-field-edit" key=${j}>
      <legend>Field ${j + 1}</legend>
      ${part(j, "label", "Label", html`<input ...${a11y(j, "label")} value=${f.label} maxlength="200" data-testid="field-label"
        onInput=${(e) => setLabel(j, e.currentTarget.value)} />`)}
      ${part(j, "name", "Key", html`<input ...${a11y(j, "name")} value=${f.name} maxlength="40" placeholder="policy_number" data-testid="field-key"
        onInput=${(e) => setField(j, "name", e.currentTarget.value)} />`)}
      ${part(j, "type", "Type", html`<select ...${a11y(j, "type")} value=${f.type} onChange=${(e) => setField(j, "type", e.currentTarget.value)}>
        ${Object.entries(FIELD_TYPES).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}</select>`)}
      <label class="check"><input type="checkbox" checked=${!!f.required} onChange=${(e) => setField(j, "required", e.currentTarget.checked)} /> Required</label>
      ${(f.type === "text" || f.type === "phone") && part(j, "pattern", "Pattern", html`<input ...${a11y(j, "pattern")} value=${f.pattern || ""}
        onInput=${(e) => setField(j, "pattern", e.currentTarget.value)} />`)}
      ${(f.type === "number" || f.type === "date") && html`
        ${part(j, "min", "Min", html`<input ...${a11y(j, "min")} value=${f.min || ""} onInput=${(e) => setField(j, "min", e.currentTarget.value)} />`)}
        ${part(j, "max", "Max", html`<input ...${a11y(j, "max")} value=${f.max || ""} onInput=${(e) => setField(j, "max", e.currentTarget.value)} />`)}`}
      ${f.type === "select" && part(j, "options", "Choices (one per line)", html`<textarea ...${a11y(j, "options")} rows="3" value=${(f.options || []).join("\n")}
        onInput=${(e) => setField(j, "options", e.currentTarget.value.split("\n").map((o) => o.trim()).filter(Boolean))}></textarea>`)}
      ${part(j, "help", "Help", html`<input ...${a11y(j, "help")} value=${f.help || ""} maxlength="500" onInput=${(e) => setField(j, "help", e.currentTarget.value)} />`)}
      <button type="button" class="btn btn-small" onClick=${() => setTask(i, "fields", fields.filter((_, n) => n !== j))}>Remove field</button>
    </fieldset>`)}
    <button type="button" class="btn btn-small" onClick=${() => setTask(i, "fields", [...fields, { name: "", label: "", type: "text" }])}>
      <${Icon} name="plus" /> Add a field</button>
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
    return html`<p class="hint template-content">Save the team, then give this template the PDF its customers sign.</p>`;
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
      setError(ex.code === "invalid_document" ? "That file is not a PDF that can be read. It may be damaged or protected by a password." : plainError(ex));
    } finally {
      setBusy(false);
      if (input.current) { input.current.value = ""; }
    }
  };
  const pick = (e) => {
    const f = e.currentTarget.files[0];
    if (f) { run(() => agentApi.upload(path, f), `“${f.name}” is now the PDF of “${x.title}”.`); }
  };
  const d = x.document;
  return html`<div class="template-content" data-testid=${"tt-pdf-" + i}>
    ${d ? html`<p data-testid="tt-pdf-name">PDF to sign: “${d.name}” (${fileSize(d.size)}). Each task assigned from this template gets its own copy.</p>`
      : html`<p class="hint">No PDF yet: the agent attaches one in the room after assigning the task.</p>`}
    <button type="button" class="btn btn-small" disabled=${busy} data-testid="tt-pdf-pick" aria-label=${`${d ? "Replace the PDF" : "Upload a PDF"} of “${x.title || "template " + (i + 1)}”`}
      onClick=${() => input.current && input.current.click()}>${d ? "Replace the PDF" : "Upload a PDF"}</button>
    <input class="sr-only" type="file" accept="application/pdf" tabindex="-1" aria-hidden="true" ref=${input} data-testid="tt-pdf-file" onChange=${pick} />
    ${d && html` <button type="button" class="btn btn-small" disabled=${busy} data-testid="tt-pdf-remove"
      aria-label=${`Remove the PDF of “${x.title || "template " + (i + 1)}”`}
      onClick=${() => run(() => agentApi.del(path), `The PDF of “${x.title}” was removed.`)}>Remove the PDF</button>`}
    ${busy && html`<p class="muted small" role="status">Sending…</p>`}
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
  if (!t) { return html`<p class="muted">Loading…</p>`; }
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
  const sample = { link: location.origin + "/c/3f9a…", agent: "Alex Rivera", customer: "Dana Whitfield" };
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
      announce(`${out.name} saved. New sessions and customers see the change at once.`);
    } catch (ex) {
      setErrors(fieldErrors(ex));
      focusInvalid(e.target);
      setGeneral(ex.code === "validation_failed" ? "Some settings need a look: see the messages next to them." : plainError(ex));
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="admin-form team-form" onSubmit=${submit} novalidate data-testid="team-form">
    <p><a href="#/admin/teams" class="link-btn">← All teams</a></p>
    <h2>${t.name}</h2>
    <${Field} id="team-name" label="Team name" error=${errors.name}>
      ${(p) => html`<input ...${p} value=${t.name} maxlength="200" onInput=${(e) => setT({ ...t, name: e.currentTarget.value })} />`}
    <//>

    <fieldset class="group">
      <legend>How customers confirm who they are</legend>
      ${[["none", "No check: the link is enough"], ["otp", "A one-time code, sent to the customer's email or phone"],
        ["pin", "A PIN the agent sets for each session and gives the customer"]].map(([k, label]) => html`
        <label class="radio" key=${k}><input type="radio" name="auth" value=${k} checked=${st.customer_authentication === k}
          data-testid=${"team-auth-" + k} onChange=${() => setS("customer_authentication", k)} /> ${label}</label>`)}
      <p class="hint">Five wrong answers lock the customer out for 15 minutes.</p>
    </fieldset>

    <fieldset class="group">
      <legend>Consent</legend>
      <div class="field check">
        <label><input type="checkbox" checked=${st.consent.required} data-testid="team-consent-required"
          onChange=${(e) => setS("consent", { ...st.consent, required: e.currentTarget.checked })} /> Ask customers to agree before they enter</label>
      </div>
      <${Field} id="team-consent" label="What the customer agrees to" error=${err("consent.text")}
        hint="Shown word for word with “I agree” and “I do not agree”. Keep it short and plain.">
        ${(p) => html`<textarea ...${p} rows="3" data-testid="consent-text" value=${st.consent.text}
          onInput=${(e) => setS("consent", { ...st.consent, text: e.currentTarget.value })}></textarea>`}
      <//>
    </fieldset>

    <fieldset class="group">
      <legend>Task templates</legend>
      <p class="hint">Agents assign these with one click.</p>
      <ol class="template-list">
        ${tasks.map((x, i) => html`<li key=${i} class="template-row">
          <label class="sr-only" for=${"tt-kind-" + i}>Kind of task ${i + 1}</label>
          <select id=${"tt-kind-" + i} value=${x.kind} onChange=${(e) => setTask(i, "kind", e.currentTarget.value)}>
            ${Object.entries(TASK_KINDS).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}
          </select>
          <label class="sr-only" for=${"tt-title-" + i}>Title of task ${i + 1}</label>
          <input id=${"tt-title-" + i} value=${x.title} maxlength="200" aria-invalid=${err(`task_templates[${i}].title`) ? "true" : undefined}
            onInput=${(e) => setTask(i, "title", e.currentTarget.value)} />
          <button type="button" class="icon-btn" aria-label=${`Remove “${x.title || "template " + (i + 1)}”`}
            onClick=${() => setS("task_templates", tasks.filter((_, j) => j !== i))}><${Icon} name="trash" /></button>
          ${err(`task_templates[${i}].title`) && html`<p class="field-error">${err(`task_templates[${i}].title`)}</p>`}
          <${TemplateContent} x=${x} i=${i} setTask=${setTask} err=${err}
            doc=${html`<${TemplatePdf} teamId=${id} i=${i} x=${x} saved=${saved} onSaved=${pdfSaved} />`} />
        </li>`)}
      </ol>
      <button type="button" class="btn" data-testid="template-add"
        onClick=${() => setS("task_templates", [...tasks, { kind: "sign", title: "" }])}><${Icon} name="plus" /> Add a template</button>
    </fieldset>

    <fieldset class="group">
      <legend>Invitation</legend>
      <p class="hint">Placeholders: <code>{{link}}</code> the customer's link, <code>{{agent}}</code> the agent's name,
        <code>{{customer}}</code> the customer's name (or “there”). Without <code>{{link}}</code>, the link is added at the end.</p>
      <div class="template-grid">
        <div>
          <${Field} id="tpl-subject" label="Email subject" error=${err("templates.email_subject")}>
            ${(p) => html`<input ...${p} value=${st.templates.email_subject} onInput=${(e) => setTpl("email_subject", e.currentTarget.value)} />`}
          <//>
          <${Field} id="tpl-body" label="Email text" error=${err("templates.email_body")}>
            ${(p) => html`<textarea ...${p} rows="6" value=${st.templates.email_body} onInput=${(e) => setTpl("email_body", e.currentTarget.value)}></textarea>`}
          <//>
          <${Field} id="tpl-sms" label="Text message" error=${err("templates.sms_body")}>
            ${(p) => html`<textarea ...${p} rows="3" value=${st.templates.sms_body} onInput=${(e) => setTpl("sms_body", e.currentTarget.value)}></textarea>`}
          <//>
        </div>
        <div class="preview" aria-label="Preview" data-testid="template-preview">
          <p class="preview-title">Preview: Alex Rivera invites Dana Whitfield</p>
          <div class="preview-mail">
            <p class="preview-subject">${renderTemplate(st.templates.email_subject, { ...sample, link: "" })}</p>
            <p class="preview-text">${renderTemplate(st.templates.email_body, sample)}</p>
          </div>
          <div class="preview-sms"><p class="preview-text">${renderTemplate(st.templates.sms_body, sample)}</p></div>
          <p class="preview-title">Then, on the customer's page</p>
          <ol class="preview-steps">
            ${st.customer_authentication !== "none" && html`<li>They confirm who they are with ${AUTH_METHOD[st.customer_authentication]}.</li>`}
            ${st.consent.required && html`<li>They read “${st.consent.text || "…"}” and choose I agree or I do not agree.</li>`}
            <li>They meet their agent in the room${tasks.length ? `, with tasks such as “${tasks[0].title || "…"}”` : ""}.</li>
          </ol>
        </div>
      </div>
    </fieldset>

    <${TeamLanguages} st=${st} setS=${setS} err=${err} />

    <fieldset class="group">
      <legend>Overrides of the org settings</legend>
      <div class="field check">
        <label><input type="checkbox" checked=${!!st.customer_access_duration}
          onChange=${(e) => setS("customer_access_duration", e.currentTarget.checked ? "72h" : undefined)} /> Links of this team work for a different time</label>
      </div>
      ${st.customer_access_duration && html`<${Field} id="team-life" label="Links work for" error=${err("customer_access_duration")}>
        ${(p) => html`<${DurationInput} id=${p.id} describedBy=${p["aria-describedby"]} value=${st.customer_access_duration}
          onChange=${(v) => setS("customer_access_duration", v)} />`}
      <//>`}
      <div class="field check">
        <label><input type="checkbox" checked=${!!st.end_session_access}
          onChange=${(e) => setS("end_session_access", e.currentTarget.checked ? { mode: "limited_for", duration: "72h" } : undefined)} /> Customers of this team keep something different after the end</label>
      </div>
      ${st.end_session_access && html`<${Field} id="team-end" label="What the customer keeps" error=${err("end_session_access.mode")}
          hint=${endAccessWords(st.end_session_access)}>
        ${(p) => html`<select ...${p} value=${st.end_session_access.mode}
          onChange=${(e) => setS("end_session_access", { ...st.end_session_access, mode: e.currentTarget.value })}>
          ${Object.entries(END_MODES).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}
        </select>`}
      <//>`}
      ${st.end_session_access && (st.end_session_access.mode === "full_for" || st.end_session_access.mode === "limited_for") && html`
        <${Field} id="team-end-d" label="For how long" error=${err("end_session_access.duration")}>
          ${(p) => html`<${DurationInput} id=${p.id} describedBy=${p["aria-describedby"]} value=${st.end_session_access.duration || "72h"}
            onChange=${(v) => setS("end_session_access", { ...st.end_session_access, duration: v })} />`}
        <//>`}
      <div class="field check">
        <label><input type="checkbox" checked=${!!st.followups} data-testid="team-fu-own"
          onChange=${(e) => setS("followups", e.currentTarget.checked ? FOLLOWUP_DEFAULTS : undefined)} /> This team's customers get their own reminders and notices</label>
      </div>
      ${st.followups && html`<${FollowupFields} value=${st.followups} errors=${errors} prefix="settings.followups" Duration=${DurationInput}
        idp="team-fu-" onChange=${(v) => setS("followups", v)} />`}
    </fieldset>
    <${SaveBar} busy=${busy} error=${general} testid="team-save" label="Save team" />
  </form>`;
}

// Agents ------------------------------------------------------------------

const ROLES = { agent: "Agent", supervisor: "Supervisor", admin: "Admin" };

function Agents() {
  const [data, error, reload] = useLoad("/api/agents");
  const [teams] = useLoad("/api/teams");
  const [editing, setEditing] = useState(null); // agent, or {} for a new one
  const names = Object.fromEntries(((teams && teams.teams) || []).map((t) => [t.id, t.name]));
  const list = (data && data.agents) || [];
  const canDisable = list.some((x) => "disabled" in x);
  if (error) { return html`<p class="notice notice-bad">${error} <button class="link-btn" onClick=${reload}>Try again</button></p>`; }
  return html`<div>
    <div class="section-head">
      <h2>Agents</h2>
      <button type="button" class="btn btn-primary" data-testid="agent-add" onClick=${() => setEditing({})}><${Icon} name="plus" /> Add an agent</button>
    </div>
    <p class="lead">Agents act on their own sessions, supervisors on their team's, admins on all.</p>
    <div class="table-wrap"><table class="table" data-testid="agent-table">
      <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Home team</th>
        <th scope="col">Also uses the settings of</th>${canDisable && html`<th scope="col">Status</th>`}<th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${list.map((x) => html`<tr key=${x.id} data-testid="agent-row" data-email=${x.email} class=${cx(x.disabled && "row-disabled")}>
          <td>${x.name}</td><td>${x.email}</td><td>${ROLES[x.role] || x.role}</td><td>${names[x.team_id] || "—"}</td>
          <td>${(x.settings_team_ids || []).map((id) => names[id] || id).join(", ") || "—"}</td>
          ${canDisable && html`<td>${x.disabled ? "Disabled" : "Active"}</td>`}
          <td><button type="button" class="link-btn" onClick=${() => setEditing(x)} aria-label=${"Edit " + x.name}>Edit</button></td>
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
        announce(`${body.name} can now sign in.`);
      } else {
        await agentApi.put("/api/agents/" + encodeURIComponent(agent.id), body);
        announce(`${body.name} saved.`);
      }
      onSaved();
    } catch (err) {
      const fe = fieldErrors(err);
      if (err.code === "email_taken") { fe.email = "Another account already uses this email."; }
      setErrors(fe);
      setGeneral(err.code === "validation_failed" || err.code === "email_taken" ? "" : plainError(err));
      setBusy(false);
    }
  };
  return html`<${Dialog} title=${isNew ? "Add an agent" : "Edit " + agent.name} onClose=${onClose} cls="dialog-form" testid="agent-dialog">
    <form onSubmit=${submit} novalidate>
      <${Field} id="ag-name" label="Name" error=${errors.name}>
        ${(p) => html`<input ...${p} value=${f.name} onInput=${set("name")} data-testid="agent-name" />`}
      <//>
      <${Field} id="ag-email" label="Email (their sign-in)" error=${errors.email}>
        ${(p) => html`<input ...${p} type="email" value=${f.email} onInput=${set("email")} data-testid="agent-email" autocomplete="off" />`}
      <//>
      <${Field} id="ag-password" label=${isNew ? "Password" : "New password"} error=${errors.password}
        hint=${isNew ? "At least 10 characters. Give it to them safely." : "Leave empty to keep the current one."}>
        ${(p) => html`<input ...${p} type="password" value=${f.password} onInput=${set("password")} autocomplete="new-password" data-testid="agent-password" />`}
      <//>
      <${Field} id="ag-role" label="Role" error=${errors.role}
        hint="Agents act on their own sessions, supervisors on their home team's, admins on all and manage Cohub.">
        ${(p) => html`<select ...${p} value=${f.role} onChange=${set("role")} data-testid="agent-role">
          ${Object.entries(ROLES).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}
        </select>`}
      <//>
      <${Field} id="ag-team" label="Home team" error=${errors.team_id} hint="Their sessions belong to this team; its settings are their default.">
        ${(p) => html`<select ...${p} value=${f.team_id} onChange=${set("team_id")} data-testid="agent-team">
          ${f.role === "admin" && html`<option value="">No team</option>`}
          ${teams.map((t) => html`<option key=${t.id} value=${t.id}>${t.name}</option>`)}
        </select>`}
      <//>
      <fieldset class="group-plain">
        <legend>May also use the settings of</legend>
        ${teams.filter((t) => t.id !== f.team_id).map((t) => html`<label class="check" key=${t.id}>
          <input type="checkbox" checked=${f.settings_team_ids.includes(t.id)} onChange=${() => toggleTeam(t.id)} /> ${t.name}</label>`)}
      </fieldset>
      ${(canDisable || "disabled" in agent) && !isNew && html`<div class="field check">
        <label><input type="checkbox" checked=${f.disabled} onChange=${(e) => setF({ ...f, disabled: e.currentTarget.checked })}
          data-testid="agent-disabled" /> Disabled: cannot sign in</label>
      </div>`}
      ${general && html`<p class="notice notice-bad" role="alert">${general}</p>`}
      <div class="dialog-actions">
        <button type="button" class="btn" onClick=${onClose}>Cancel</button>
        <button type="submit" class="btn btn-primary" data-testid="agent-save" disabled=${busy}>${isNew ? "Add the agent" : "Save"}</button>
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
      <h2>Outbox</h2>
      <button type="button" class="btn" onClick=${reload}><${Icon} name="refresh" /> Refresh</button>
    </div>
    <p class="lead">Invitations and codes Cohub “sent” without an email server or SMS gateway: for demos, and to check what customers received. Newest first.</p>
    ${error && html`<p class="notice notice-bad">${error}</p>`}
    ${list.length === 0 && !error && html`<p class="muted">Nothing sent yet.</p>`}
    <ul class="outbox" data-testid="outbox-list">
      ${list.map((msg, i) => html`<li key=${i} class="outbox-item" data-testid="outbox-item">
        <p class="outbox-head"><span class="badge">${msg.channel === "sms" ? "Text message" : "Email"}</span>
          <strong>${msg.to}</strong> <time class="muted" datetime=${msg.at}>${when(msg.at)}</time></p>
        ${msg.subject && html`<p class="outbox-subject">${msg.subject}</p>`}
        <p class="outbox-body"><${Linked} text=${msg.body} /></p>
        ${msg.session_id && html`<p class="small"><a href=${"#/s/" + encodeURIComponent(msg.session_id)}>Open the session</a></p>`}
      </li>`)}
    </ul>
  </div>`;
}
