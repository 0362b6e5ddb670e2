// The webhooks screen: an admin registers an endpoint (its URL, the
// events it wants), sees its signing secret once, reads each endpoint's
// delivery log (status, attempts, the receiver's last answer, the next
// attempt), sends a delivery again, disables and enables an endpoint,
// gives it a new secret, and deletes it.
import { html, useState, useEffect, Field, Dialog, Icon, announce, copyText } from "../ui.js";
import { agentApi } from "../api.js";
import { fieldError, plainError, when } from "../words.js";
import { w } from "./catalog.js";

const STATUS = { pending: w("webhooks.pending"), delivered: w("webhooks.delivered"), failed: w("webhooks.failed") };

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
  if (error) { return html`<p class="notice notice-bad">${error} <button class="link-btn" onClick=${load}>${w("webhooks.try_again")}</button></p>`; }
  const list = data ? data.webhooks : [];
  const toggle = async (ep) => {
    try {
      await agentApi.put("/api/webhooks/" + encodeURIComponent(ep.id), { enabled: !ep.enabled });
      announce(ep.enabled ? w("webhooks.is_sent_nothing_until", { url: ep.url }) : w("webhooks.gets_events_again", { url: ep.url }));
      load();
    } catch (e) {
      setError(plainError(e));
    }
  };
  const rotate = async (ep) => {
    try {
      const out = await agentApi.post("/api/webhooks/" + encodeURIComponent(ep.id) + "/rotate-secret", {});
      setSecret({ endpoint: out, words: w("webhooks.its_old_secret_no") });
    } catch (e) {
      setError(plainError(e));
    }
  };
  return html`<div>
    <div class="section-head"><h2>${w("webhooks.webhooks")}</h2></div>
    <p class="lead">${w("webhooks.cohub_tells_another_system")} <code>${w("webhooks.webhook_signature")}</code> ${w("webhooks.before_trusting_a_body")}</p>
    ${data && html`<${RegisterForm} types=${data.event_types}
      onCreated=${(ep) => { setSecret({ endpoint: ep, words: w("webhooks.give_it_to_the") }); load(); }} />`}
    ${secret && html`<${SecretOnce} shown=${secret} onDone=${() => setSecret(null)} />`}
    ${data && list.length === 0 && html`<p class="muted" data-testid="hook-none">${w("webhooks.no_endpoints_yet")}</p>`}
    ${list.length > 0 && html`<div class="table-wrap"><table class="table" data-testid="hook-table">
      <thead><tr><th scope="col">${w("webhooks.url")}</th><th scope="col">${w("webhooks.events")}</th><th scope="col">${w("webhooks.state")}</th><th scope="col">${w("webhooks.registered")}</th>
        <th scope="col"><span class="sr-only">${w("webhooks.actions")}</span></th></tr></thead>
      <tbody>
        ${list.map((ep) => html`<tr key=${ep.id} data-testid="hook-row" data-url=${ep.url}>
          <td><span class="break">${ep.url}</span>${ep.description && html`<br /><span class="muted">${ep.description}</span>`}</td>
          <td>${ep.events.length === 0 ? w("webhooks.all_events") : ep.events.join(", ")}</td>
          <td data-testid="hook-state">${ep.enabled ? w("webhooks.enabled") : w("webhooks.disabled")}</td>
          <td><time datetime=${ep.created_at}>${when(ep.created_at)}</time></td>
          <td class="actions">
            <button type="button" class="link-btn" onClick=${() => setOpen(open && open.id === ep.id ? null : ep)}
              aria-expanded=${open && open.id === ep.id ? "true" : "false"} aria-label=${w("webhooks.deliveries_to", { url: ep.url })} data-testid="hook-log">${w("webhooks.deliveries")}</button>
            <button type="button" class="link-btn" onClick=${() => toggle(ep)} aria-label=${(ep.enabled ? w("webhooks.disable_url", { url: ep.url }) : w("webhooks.enable_url", { url: ep.url }))}
              data-testid="hook-toggle">${ep.enabled ? w("webhooks.disable") : w("webhooks.enable")}</button>
            <button type="button" class="link-btn" onClick=${() => rotate(ep)} aria-label=${w("webhooks.new_secret_for", { url: ep.url })}
              data-testid="hook-rotate">${w("webhooks.new_secret")}</button>
            <button type="button" class="link-btn" onClick=${() => setDeleting(ep)} aria-label=${w("webhooks.delete_url", { url: ep.url })}
              data-testid="hook-delete">${w("webhooks.delete")}</button>
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
    <${Field} id="hook-url" label=${w("webhooks.url")} error=${errors.url} hint=${w("webhooks.https_and_a_public")}>
      ${(p) => html`<input ...${p} type="url" value=${url} onInput=${(e) => setURL(e.currentTarget.value)} data-testid="hook-url"
        autocomplete="off" placeholder=${w("webhooks.https_crm_example_com")} />`}
    <//>
    <${Field} id="hook-description" label=${w("webhooks.description")} optional error=${errors.description}>
      ${(p) => html`<input ...${p} value=${description} onInput=${(e) => setDescription(e.currentTarget.value)} data-testid="hook-description" />`}
    <//>
    <fieldset class="field" aria-describedby=${errors.events ? "hook-events-err" : undefined}>
      <legend>${w("webhooks.events")}</legend>
      <label class="check"><input type="checkbox" checked=${all} onChange=${(e) => setAll(e.currentTarget.checked)}
        data-testid="hook-all" /> ${w("webhooks.all_events_and_those")}</label>
      ${!all && html`<div class="check-grid" data-testid="hook-events">
        ${types.map((t) => html`<label key=${t} class="check"><input type="checkbox" checked=${events.includes(t)}
          onChange=${(e) => pick(t, e.currentTarget.checked)} data-testid=${"hook-event-" + t} /> <code>${t}</code></label>`)}
      </div>`}
      ${errors.events && html`<p class="field-error" id="hook-events-err"><${Icon} name="alert" /> ${errors.events}</p>`}
    </fieldset>
    ${general && html`<p class="notice notice-bad" role="alert">${general}</p>`}
    <button type="submit" class="btn btn-primary" disabled=${busy} data-testid="hook-add"><${Icon} name="plus" /> ${w("webhooks.add_endpoint")}</button>
  </form>`;
}

// SecretOnce shows an endpoint's signing secret the only time it can be seen.
function SecretOnce({ shown, onDone }) {
  const copy = async () => {
    if (await copyText(shown.endpoint.secret, document.getElementById("hook-secret"))) { announce(w("webhooks.secret_copied")); }
  };
  return html`<${Dialog} title=${w("webhooks.signing_secret_for", { url: shown.endpoint.url })} onClose=${onDone} testid="hook-secret-dialog" describedBy="hook-once">
    <p id="hook-once">${shown.words} ${w("webhooks.the_receiver_checks_each")} <code>${w("webhooks.webhook_signature")}</code> ${w("webhooks.with_it")}</p>
    <div class="field"><label for="hook-secret">${w("webhooks.the_secret")}</label>
      <input id="hook-secret" readonly value=${shown.endpoint.secret} data-testid="hook-secret" onFocus=${(e) => e.currentTarget.select()} /></div>
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${copy} data-testid="hook-copy"><${Icon} name="copy" /> ${w("webhooks.copy")}</button>
      <button type="button" class="btn btn-primary" onClick=${onDone} data-testid="hook-done">${w("webhooks.done")}</button>
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
      announce(w("webhooks.is_being_sent_again", { type: d.type }));
      load();
    } catch (e) {
      setError(plainError(e));
    }
  };
  return html`<section class="hook-log" aria-labelledby="hook-log-h" data-testid="hook-deliveries">
    <div class="section-head"><h3 id="hook-log-h">${w("webhooks.deliveries_to_b")} <span class="break">${ep.url}</span></h3>
      <button type="button" class="btn" onClick=${load} data-testid="hook-refresh"><${Icon} name="refresh" /> ${w("webhooks.refresh")}</button></div>
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    ${list && list.length === 0 && html`<p class="muted">${w("webhooks.nothing_sent_yet")}</p>`}
    ${list && list.length > 0 && html`<div class="table-wrap"><table class="table">
      <thead><tr><th scope="col">${w("webhooks.event")}</th><th scope="col">${w("webhooks.happened")}</th><th scope="col">${w("webhooks.status")}</th><th scope="col">${w("webhooks.attempts")}</th>
        <th scope="col">${w("webhooks.last_answer")}</th><th scope="col">${w("webhooks.next_attempt")}</th><th scope="col"><span class="sr-only">${w("webhooks.actions")}</span></th></tr></thead>
      <tbody>
        ${list.map((d) => html`<tr key=${d.id} data-testid="hook-delivery" data-status=${d.status} data-webhook-id=${d.webhook_id}>
          <td><code>${d.type}</code></td>
          <td><time datetime=${d.timestamp}>${when(d.timestamp)}</time></td>
          <td data-testid="hook-delivery-status">${STATUS[d.status] || d.status}</td>
          <td data-testid="hook-delivery-attempts">${d.attempts}</td>
          <td data-testid="hook-delivery-answer">${answerWords(d)}</td>
          <td>${d.next_attempt_at ? html`<time datetime=${d.next_attempt_at}>${when(d.next_attempt_at)}</time>` : "—"}</td>
          <td><button type="button" class="link-btn" onClick=${() => retry(d)} aria-label=${w("webhooks.send_again", { type: d.type })}
            data-testid="hook-retry">${w("webhooks.retry")}</button></td>
        </tr>`)}
      </tbody>
    </table></div>`}
  </section>`;
}

// answerWords says how the last attempt went, in a few words.
function answerWords(d) {
  if (d.attempts === 0) { return w("webhooks.not_tried_yet"); }
  if (!d.last_error) { return w("webhooks.taken", { last_status_code: d.last_status_code }); }
  return d.last_status_code ? `${d.last_status_code}: ${d.last_error}` : d.last_error;
}

function DeleteDialog({ ep, onClose, onDeleted }) {
  const [error, setError] = useState("");
  const remove = async () => {
    try {
      await agentApi.del("/api/webhooks/" + encodeURIComponent(ep.id));
      announce(w("webhooks.gets_nothing_more", { url: ep.url }));
      onDeleted();
    } catch (e) {
      setError(plainError(e));
    }
  };
  return html`<${Dialog} title=${w("webhooks.delete_the_endpoint", { url: ep.url })} onClose=${onClose} testid="hook-delete-dialog">
    <p>${w("webhooks.nothing_more_is_sent")}</p>
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${onClose}>${w("webhooks.keep_it")}</button>
      <button type="button" class="btn btn-danger" onClick=${remove} data-testid="hook-delete-confirm">${w("webhooks.delete")}</button>
    </div>
  <//>`;
}
