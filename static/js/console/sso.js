// Single sign-on's org settings: who signing in through the provider
// creates, and whether agents may still use a password. Part of the
// org settings form (admin.js), saved with it.
import { html, useState, useEffect, Field } from "../ui.js";
import { agentApi } from "../api.js";
import { w } from "./catalog.js";

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
    <legend>${w("sso.single_sign_on")}</legend>
    <p class="hint" data-testid="sso-state">${on
      ? w("sso.agents_may_sign_in", { name: info.name })
      : w("sso.off_start_cohub_with")}</p>
    <div class="field check">
      <label><input type="checkbox" checked=${s.create_agents} data-testid="set-sso-create"
        onChange=${(e) => onChange({ ...s, create_agents: e.currentTarget.checked, role: s.role || "agent" })} /> ${w("sso.create_an_agent_at")}</label>
      <p class="hint">${w("sso.without_it_an_admin")}</p>
    </div>
    ${s.create_agents && html`
      <${Field} id="set-sso-team" label=${w("sso.home_team_of_agents")} error=${errors["sso.team_id"]}>
        ${(p) => html`<select ...${p} value=${s.team_id} data-testid="set-sso-team" onChange=${(e) => set("team_id", e.currentTarget.value)}>
          <option value="">${w("sso.pick_a_team")}</option>
          ${teams.map((t) => html`<option key=${t.id} value=${t.id}>${t.name}</option>`)}
        </select>`}
      <//>
      <${Field} id="set-sso-role" label=${w("sso.their_role")} error=${errors["sso.role"]}>
        ${(p) => html`<select ...${p} value=${s.role} data-testid="set-sso-role" onChange=${(e) => set("role", e.currentTarget.value)}>
          <option value="agent">${w("sso.agent")}</option>
          <option value="supervisor">${w("sso.supervisor")}</option>
        </select>`}
      <//>`}
    <div class="field check">
      <label><input type="checkbox" checked=${s.password_admins_only} disabled=${!on && !s.password_admins_only} data-testid="set-sso-password-off"
        aria-describedby="set-sso-password-hint" onChange=${(e) => set("password_admins_only", e.currentTarget.checked)} /> ${w("sso.only_admins_may_sign")}</label>
      <p class="hint" id="set-sso-password-hint">${on ? w("sso.agents_and_supervisors_then", { name: info.name })
        : w("sso.needs_single_sign_on")}</p>
      ${errors["sso.password_admins_only"] && html`<p class="field-error" role="alert">${errors["sso.password_admins_only"]}</p>`}
    </div>
  </fieldset>`;
}
