// The webhooks screen: an admin registers an endpoint (its URL, the
// events it wants), sees its signing secret once, reads each endpoint's
// delivery log (status, attempts, the receiver's last answer, the next
// attempt), sends a delivery again, disables and enables an endpoint,
// gives it a new secret, and deletes it.
import { html, useState, useEffect, Field, Dialog, Icon, announce, copyText } from "../ui.js";
import { agentApi } from "../api.js";
import { fieldError, plainError, when } from "../words.js";

const STATUS = { pending: "Pending", delivered: "Delivered", failed: "Failed" };

export function Webhooks() {
  const [data, setData] = useState(null);
  const [error, setError] = useState("");
  const [secret, setSecret] = useState(null); // {endpoint, words}: shown once
  const [open, setOpen] = useState(null); // the endpoint whose log shows
  const [deleting, setDeleting] = useState(null);
  const load = async () => {
    try {
      setData(await agentApi.get("/api/webhooks"));
      setError("");
    } catch (e) {
      setError(plainError(e));
    }
  };
  useEffect(() => { load(); }, []);
  if (error) { return html`<p class="notice notice-bad">${error} <button class="link-btn" onClick=${load}>Try again</button></p>`; }
  const list = data ? data.webhooks : [];
  const toggle = async (ep) => {
    try {
      await agentApi.put("/api/webhooks/" + encodeURIComponent(ep.id), { enabled: !ep.enabled });
      announce(ep.enabled ? `${ep.url} is sent nothing until enabled.` : `${ep.url} gets events again.`);
      load();
    } catch (e) {
      setError(plainError(e));
    }
  };
  const rotate = async (ep) => {
    try {
      const out = await agentApi.post("/api/webhooks/" + encodeURIComponent(ep.id) + "/rotate-secret", {});
      setSecret({ endpoint: out, words: "Its old secret no longer signs anything: give the receiver this one now." });
    } catch (e) {
      setError(plainError(e));
    }
  };
  return html`<div>
    <div class="section-head"><h2>Webhooks</h2></div>
    <p class="lead">Cohub tells another system (a CRM, a case tool) what happens in sessions by sending each event to its URL,
      signed with the endpoint's secret (the Standard Webhooks scheme: check <code>webhook-signature</code> before trusting a body).
      A receiver that does not answer 2xx is tried again, for up to a day, in the order events happened.</p>
    ${data && html`<${RegisterForm} types=${data.event_types}
      onCreated=${(ep) => { setSecret({ endpoint: ep, words: "Give it to the receiver now: Cohub cannot show it again." }); load(); }} />`}
    ${secret && html`<${SecretOnce} shown=${secret} onDone=${() => setSecret(null)} />`}
    ${data && list.length === 0 && html`<p class="muted" data-testid="hook-none">No endpoints yet.</p>`}
    ${list.length > 0 && html`<div class="table-wrap"><table class="table" data-testid="hook-table">
      <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Registered</th>
        <th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${list.map((ep) => html`<tr key=${ep.id} data-testid="hook-row" data-url=${ep.url}>
          <td><span class="break">${ep.url}</span>${ep.description && html`<br /><span class="muted">${ep.description}</span>`}</td>
          <td>${ep.events.length === 0 ? "All events" : ep.events.join(", ")}</td>
          <td data-testid="hook-state">${ep.enabled ? "Enabled" : "Disabled"}</td>
          <td><time datetime=${ep.created_at}>${when(ep.created_at)}</time></td>
          <td class="actions">
            <button type="button" class="link-btn" onClick=${() => setOpen(open && open.id === ep.id ? null : ep)}
              aria-expanded=${open && open.id === ep.id ? "true" : "false"} aria-label=${"Deliveries to " + ep.url} data-testid="hook-log">Deliveries</button>
            <button type="button" class="link-btn" onClick=${() => toggle(ep)} aria-label=${(ep.enabled ? "Disable " : "Enable ") + ep.url}
              data-testid="hook-toggle">${ep.enabled ? "Disable" : "Enable"}</button>
            <button type="button" class="link-btn" onClick=${() => rotate(ep)} aria-label=${"New secret for " + ep.url}
              data-testid="hook-rotate">New secret</button>
            <button type="button" class="link-btn" onClick=${() => setDeleting(ep)} aria-label=${"Delete " + ep.url}
              data-testid="hook-delete">Delete</button>
          </td>
        </tr>`)}
      </tbody>
    </table></div>`}
    ${open && html`<${DeliveryLog} key=${open.id} ep=${open} />`}
    ${deleting && html`<${DeleteDialog} ep=${deleting} onClose=${() => setDeleting(null)}
      onDeleted=${() => { if (open && open.id === deleting.id) { setOpen(null); } setDeleting(null); load(); }} />`}
  </div>`;
}

function RegisterForm({ types, onCreated }) {
  const [url, setURL] = useState("");
  const [description, setDescription] = useState("");
  const [all, setAll] = useState(true);
  const [events, setEvents] = useState([]);
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);
  const pick = (t, on) => setEvents(on ? [...events, t] : events.filter((x) => x !== t));
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setGeneral("");
    try {
      const out = await agentApi.post("/api/webhooks", { url: url.trim(), description: description.trim(), events: all ? [] : events });
      setURL("");
      setDescription("");
      setErrors({});
      onCreated(out);
    } catch (err) {
      const fe = {};
      for (const [k, v] of Object.entries(err.fields || {})) { fe[k.replace(/\[\d+\]$/, "")] = fieldError(k, v); }
      setErrors(fe);
      setGeneral(err.code === "validation_failed" ? "" : plainError(err));
    }
    setBusy(false);
  };
  return html`<form class="admin-form" onSubmit=${submit} novalidate data-testid="hook-form">
    <${Field} id="hook-url" label="URL" error=${errors.url} hint="https:// and a public address: the receiver's.">
      ${(p) => html`<input ...${p} type="url" value=${url} onInput=${(e) => setURL(e.currentTarget.value)} data-testid="hook-url"
        autocomplete="off" placeholder="https://crm.example.com/cohub" />`}
    <//>
    <${Field} id="hook-description" label="Description" optional error=${errors.description}>
      ${(p) => html`<input ...${p} value=${description} onInput=${(e) => setDescription(e.currentTarget.value)} data-testid="hook-description" />`}
    <//>
    <fieldset class="field" aria-describedby=${errors.events ? "hook-events-err" : undefined}>
      <legend>Events</legend>
      <label class="check"><input type="checkbox" checked=${all} onChange=${(e) => setAll(e.currentTarget.checked)}
        data-testid="hook-all" /> All events, and those added later</label>
      ${!all && html`<div class="check-grid" data-testid="hook-events">
        ${types.map((t) => html`<label key=${t} class="check"><input type="checkbox" checked=${events.includes(t)}
          onChange=${(e) => pick(t, e.currentTarget.checked)} data-testid=${"hook-event-" + t} /> <code>${t}</code></label>`)}
      </div>`}
      ${errors.events && html`<p class="field-error" id="hook-events-err"><${Icon} name="alert" /> ${errors.events}</p>`}
    </fieldset>
    ${general && html`<p class="notice notice-bad" role="alert">${general}</p>`}
    <button type="submit" class="btn btn-primary" disabled=${busy} data-testid="hook-add"><${Icon} name="plus" /> Add endpoint</button>
  </form>`;
}

// SecretOnce shows an endpoint's signing secret the only time it can be seen.
function SecretOnce({ shown, onDone }) {
  const copy = async () => {
    if (await copyText(shown.endpoint.secret, document.getElementById("hook-secret"))) { announce("Secret copied."); }
  };
  return html`<${Dialog} title=${"Signing secret for " + shown.endpoint.url} onClose=${onDone} testid="hook-secret-dialog" describedBy="hook-once">
    <p id="hook-once">${shown.words} The receiver checks each delivery's <code>webhook-signature</code> with it.</p>
    <div class="field"><label for="hook-secret">The secret</label>
      <input id="hook-secret" readonly value=${shown.endpoint.secret} data-testid="hook-secret" onFocus=${(e) => e.currentTarget.select()} /></div>
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${copy} data-testid="hook-copy"><${Icon} name="copy" /> Copy</button>
      <button type="button" class="btn btn-primary" onClick=${onDone} data-testid="hook-done">Done</button>
    </div>
  <//>`;
}

function DeliveryLog({ ep }) {
  const [list, setList] = useState(null);
  const [error, setError] = useState("");
  const path = "/api/webhooks/" + encodeURIComponent(ep.id) + "/deliveries";
  const load = async () => {
    try {
      setList((await agentApi.get(path)).deliveries);
      setError("");
    } catch (e) {
      setError(plainError(e));
    }
  };
  useEffect(() => { load(); }, []);
  const retry = async (d) => {
    try {
      await agentApi.post(path + "/" + encodeURIComponent(d.id) + "/retry", {});
      announce(`${d.type} is being sent again.`);
      load();
    } catch (e) {
      setError(plainError(e));
    }
  };
  return html`<section class="hook-log" aria-labelledby="hook-log-h" data-testid="hook-deliveries">
    <div class="section-head"><h3 id="hook-log-h">Deliveries to <span class="break">${ep.url}</span></h3>
      <button type="button" class="btn" onClick=${load} data-testid="hook-refresh"><${Icon} name="refresh" /> Refresh</button></div>
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    ${list && list.length === 0 && html`<p class="muted">Nothing sent yet.</p>`}
    ${list && list.length > 0 && html`<div class="table-wrap"><table class="table">
      <thead><tr><th scope="col">Event</th><th scope="col">Happened</th><th scope="col">Status</th><th scope="col">Attempts</th>
        <th scope="col">Last answer</th><th scope="col">Next attempt</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>
        ${list.map((d) => html`<tr key=${d.id} data-testid="hook-delivery" data-status=${d.status} data-webhook-id=${d.webhook_id}>
          <td><code>${d.type}</code></td>
          <td><time datetime=${d.timestamp}>${when(d.timestamp)}</time></td>
          <td data-testid="hook-delivery-status">${STATUS[d.status] || d.status}</td>
          <td data-testid="hook-delivery-attempts">${d.attempts}</td>
          <td data-testid="hook-delivery-answer">${answerWords(d)}</td>
          <td>${d.next_attempt_at ? html`<time datetime=${d.next_attempt_at}>${when(d.next_attempt_at)}</time>` : "—"}</td>
          <td><button type="button" class="link-btn" onClick=${() => retry(d)} aria-label=${"Send " + d.type + " again"}
            data-testid="hook-retry">Retry</button></td>
        </tr>`)}
      </tbody>
    </table></div>`}
  </section>`;
}

// answerWords says how the last attempt went, in a few words.
function answerWords(d) {
  if (d.attempts === 0) { return "Not tried yet"; }
  if (!d.last_error) { return `${d.last_status_code}: taken`; }
  return d.last_status_code ? `${d.last_status_code}: ${d.last_error}` : d.last_error;
}

function DeleteDialog({ ep, onClose, onDeleted }) {
  const [error, setError] = useState("");
  const remove = async () => {
    try {
      await agentApi.del("/api/webhooks/" + encodeURIComponent(ep.id));
      announce(`${ep.url} gets nothing more.`);
      onDeleted();
    } catch (e) {
      setError(plainError(e));
    }
  };
  return html`<${Dialog} title=${"Delete the endpoint " + ep.url + "?"} onClose=${onClose} testid="hook-delete-dialog">
    <p>Nothing more is sent to it, and its delivery log goes with it, pending deliveries included.</p>
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${onClose}>Keep it</button>
      <button type="button" class="btn btn-danger" onClick=${remove} data-testid="hook-delete-confirm">Delete</button>
    </div>
  <//>`;
}
