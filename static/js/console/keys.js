// The API keys screen: an admin issues a named key that acts as one
// agent (an integration, such as a CRM, sends it as
// "Authorization: Bearer"), sees it once, sees each key's last use, and
// revokes it.
import { html, useState, useEffect, Field, Dialog, Icon, announce, copyText } from "../ui.js";
import { agentApi } from "../api.js";
import { fieldError, plainError, when } from "../words.js";
import { w } from "./catalog.js";

export function APIKeys() {
  const [keys, setKeys] = useState(null);
  const [agents, setAgents] = useState([]);
  const [error, setError] = useState("");
  const [issued, setIssued] = useState(null); // {key, api_key}: shown once
  const [revoking, setRevoking] = useState(null);
  const load = async () => {
    try {
      const [k, a] = await Promise.all([agentApi.get("/api/api-keys"), agentApi.get("/api/agents")]);
      setKeys(k.api_keys || []);
      setAgents((a.agents || []).filter((x) => !x.disabled));
      setError("");
    } catch (e) {
      setError(plainError(e));
    }
  };
  useEffect(() => { load(); }, []);
  const names = Object.fromEntries(agents.map((x) => [x.id, x.name]));
  if (error) { return html`<p class="notice notice-bad">${error} <button class="link-btn" onClick=${load}>${w("keys.try_again")}</button></p>`; }
  return html`<div>
    <div class="section-head"><h2>${w("keys.api_keys")}</h2></div>
    <p class="lead">${w("keys.a_key_lets_another")} <code>${w("keys.authorization_bearer")}</code>${w("keys.every_use_is_logged")}</p>
    <${IssueForm} agents=${agents} onIssued=${(out) => { setIssued(out); load(); }} />
    ${issued && html`<${ShownOnce} issued=${issued} onDone=${() => setIssued(null)} />`}
    ${keys && keys.length === 0 && html`<p class="muted" data-testid="key-none">${w("keys.no_keys_yet")}</p>`}
    ${keys && keys.length > 0 && html`<div class="table-wrap"><table class="table" data-testid="key-table">
      <thead><tr><th scope="col">${w("keys.name")}</th><th scope="col">${w("keys.acts_as")}</th><th scope="col">${w("keys.issued")}</th><th scope="col">${w("keys.last_used")}</th>
        <th scope="col"><span class="sr-only">${w("keys.actions")}</span></th></tr></thead>
      <tbody>
        ${keys.map((k) => html`<tr key=${k.id} data-testid="key-row" data-name=${k.name}>
          <td>${k.name}</td><td>${names[k.agent_id] || w("keys.a_disabled_or_removed")}</td>
          <td><time datetime=${k.created_at}>${when(k.created_at)}</time></td>
          <td data-testid="key-last-used">${k.last_used_at ? html`<time datetime=${k.last_used_at}>${when(k.last_used_at)}</time>` : w("keys.never")}</td>
          <td><button type="button" class="link-btn" onClick=${() => setRevoking(k)} aria-label=${w("keys.revoke_name", { name: k.name })}
            data-testid="key-revoke">${w("keys.revoke")}</button></td>
        </tr>`)}
      </tbody>
    </table></div>`}
    ${revoking && html`<${RevokeDialog} k=${revoking} onClose=${() => setRevoking(null)}
      onRevoked=${() => { setRevoking(null); load(); }} />`}
  </div>`;
}

function IssueForm({ agents, onIssued }) {
  const [name, setName] = useState("");
  const [agent, setAgent] = useState("");
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);
  const chosen = agent || (agents[0] ? agents[0].id : "");
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setGeneral("");
    try {
      const out = await agentApi.post("/api/api-keys", { name: name.trim(), agent_id: chosen });
      setName("");
      setErrors({});
      onIssued(out);
    } catch (err) {
      const fe = {};
      for (const [k, v] of Object.entries(err.fields || {})) { fe[k] = fieldError(k, v); }
      setErrors(fe);
      setGeneral(err.code === "validation_failed" ? "" : plainError(err));
    }
    setBusy(false);
  };
  return html`<form class="admin-form" onSubmit=${submit} novalidate data-testid="key-form">
    <${Field} id="key-name" label=${w("keys.name")} error=${errors.name} hint=${w("keys.say_what_uses_it")}>
      ${(p) => html`<input ...${p} value=${name} onInput=${(e) => setName(e.currentTarget.value)} data-testid="key-name" autocomplete="off" />`}
    <//>
    <${Field} id="key-agent" label=${w("keys.acts_as")} error=${errors.agent_id} hint=${w("keys.the_key_can_do")}>
      ${(p) => html`<select ...${p} value=${chosen} onChange=${(e) => setAgent(e.currentTarget.value)} data-testid="key-agent">
        ${agents.map((x) => html`<option key=${x.id} value=${x.id}>${x.name} (${x.email})</option>`)}
      </select>`}
    <//>
    ${general && html`<p class="notice notice-bad" role="alert">${general}</p>`}
    <button type="submit" class="btn btn-primary" disabled=${busy} data-testid="key-issue"><${Icon} name="plus" /> ${w("keys.issue_a_key")}</button>
  </form>`;
}

// ShownOnce shows a new key the only time it can be seen.
function ShownOnce({ issued, onDone }) {
  const copy = async () => {
    if (await copyText(issued.key, document.getElementById("key-secret"))) { announce(w("keys.key_copied")); }
  };
  return html`<${Dialog} title=${w("keys.key_for", { name: issued.api_key.name })} onClose=${onDone} testid="key-issued" describedBy="key-once">
    <p id="key-once">${w("keys.copy_it_now_and")}</p>
    <div class="field"><label for="key-secret">${w("keys.the_key")}</label>
      <input id="key-secret" readonly value=${issued.key} data-testid="key-secret" onFocus=${(e) => e.currentTarget.select()} /></div>
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${copy}><${Icon} name="copy" /> ${w("keys.copy")}</button>
      <button type="button" class="btn btn-primary" onClick=${onDone} data-testid="key-done">${w("keys.done")}</button>
    </div>
  <//>`;
}

function RevokeDialog({ k, onClose, onRevoked }) {
  const [error, setError] = useState("");
  const revoke = async () => {
    try {
      await agentApi.del("/api/api-keys/" + encodeURIComponent(k.id));
      announce(w("keys.can_no_longer_be", { name: k.name }));
      onRevoked();
    } catch (e) {
      setError(plainError(e));
    }
  };
  return html`<${Dialog} title=${w("keys.revoke_name_ask", { name: k.name })} onClose=${onClose} testid="key-revoke-dialog">
    <p>${w("keys.whatever_uses_this_key")}</p>
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${onClose}>${w("keys.keep_it")}</button>
      <button type="button" class="btn btn-danger" onClick=${revoke} data-testid="key-revoke-confirm">${w("keys.revoke")}</button>
    </div>
  <//>`;
}
