// Single sign-on's org settings: who signing in through the provider
// creates, and whether agents may still use a password. Part of the
// org settings form (admin.js), saved with it.
import { html, useState, useEffect, Field } from "../ui.js";
import { agentApi } from "../api.js";

export function SSOSettings({ sso, onChange, errors }) {
  const [info, setInfo] = useState(null);
  const [teams, setTeams] = useState([]);
  useEffect(() => {
    agentApi.get("/api/sso").then(setInfo, () => setInfo(null));
    agentApi.get("/api/teams").then((r) => setTeams(r.teams || []), () => setTeams([]));
  }, []);
  const s = sso || { create_agents: false, team_id: "", role: "", password_admins_only: false };
  const set = (k, v) => onChange({ ...s, [k]: v });
  const on = !!(info && info.enabled);
  return html`<fieldset class="group" data-testid="set-sso">
    <legend>Single sign-on</legend>
    <p class="hint" data-testid="sso-state">${on
      ? `Agents may sign in with ${info.name}: the agent whose email the provider has verified is signed in.`
      : "Off: start Cohub with --oidc-issuer, --oidc-client-id and --oidc-client-secret to let agents sign in with your identity provider."}</p>
    <div class="field check">
      <label><input type="checkbox" checked=${s.create_agents} data-testid="set-sso-create"
        onChange=${(e) => onChange({ ...s, create_agents: e.currentTarget.checked, role: s.role || "agent" })} /> Create an agent at the first sign-in of a verified email no agent has</label>
      <p class="hint">Without it, an admin adds each agent first; the provider only proves who they are.</p>
    </div>
    ${s.create_agents && html`
      <${Field} id="set-sso-team" label="Home team of agents created this way" error=${errors["sso.team_id"]}>
        ${(p) => html`<select ...${p} value=${s.team_id} data-testid="set-sso-team" onChange=${(e) => set("team_id", e.currentTarget.value)}>
          <option value="">Pick a team</option>
          ${teams.map((t) => html`<option key=${t.id} value=${t.id}>${t.name}</option>`)}
        </select>`}
      <//>
      <${Field} id="set-sso-role" label="Their role" error=${errors["sso.role"]}>
        ${(p) => html`<select ...${p} value=${s.role} data-testid="set-sso-role" onChange=${(e) => set("role", e.currentTarget.value)}>
          <option value="agent">Agent</option>
          <option value="supervisor">Supervisor</option>
        </select>`}
      <//>`}
    <div class="field check">
      <label><input type="checkbox" checked=${s.password_admins_only} disabled=${!on && !s.password_admins_only} data-testid="set-sso-password-off"
        aria-describedby="set-sso-password-hint" onChange=${(e) => set("password_admins_only", e.currentTarget.checked)} /> Only admins may sign in with a password</label>
      <p class="hint" id="set-sso-password-hint">${on ? `Agents and supervisors then sign in with ${info.name} only; admins keep their password, so a provider outage never locks everyone out.`
        : "Needs single sign-on to be on."}</p>
      ${errors["sso.password_admins_only"] && html`<p class="field-error" role="alert">${errors["sso.password_admins_only"]}</p>`}
    </div>
  </fieldset>`;
}
