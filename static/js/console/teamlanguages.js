// A team's languages: the one its customers read when the agent picks
// none (and its own texts are written in), and its texts in the other
// languages. A language left empty uses Cohub's built-in invitation in
// that language and the team's own consent text.
import { html, Field } from "../ui.js";
import { languages, loadLanguages } from "./languages.js";
import { w } from "./catalog.js";

const TEMPLATE_KEYS = ["email_subject", "email_body", "sms_body"];

// translationOf drops what was left empty, so an untouched language is
// not sent at all.
function translationOf(tr) {
  const out = {};
  const tpl = tr.templates || {};
  if (TEMPLATE_KEYS.some((k) => (tpl[k] || "").trim())) { out.templates = tpl; }
  if ((tr.consent_text || "").trim()) { out.consent_text = tr.consent_text; }
  const tasks = Object.fromEntries(Object.entries(tr.task_templates || {}).filter(([, t]) => (t.title || "").trim()));
  if (Object.keys(tasks).length) { out.task_templates = tasks; }
  return Object.keys(out).length ? out : null;
}

// TaskTexts are the team's task templates' words in one language: a
// session in it is offered them so.
function TaskTexts({ code, tr, tpls, setTr, e }) {
  const all = tr.task_templates || {};
  const set = (title, k, v) => setTr(code, { ...tr, task_templates: { ...all, [title]: { ...(all[title] || {}), [k]: v } } });
  return tpls.map((t, i) => {
    const mine = all[t.title] || {};
    const words = t.kind === "upload" ? "instructions" : t.kind === "consent" ? "text" : "";
    const id = `tr-${code}-task-${i}`;
    return html`<div key=${id}>
      <${Field} id=${id} label=${w("teamlanguages.task_title", { title: t.title })} error=${e(`.task_templates.${t.title}.title`) || e(`.task_templates.${t.title}`)}>
        ${(p) => html`<input ...${p} lang=${code} data-testid=${id} value=${mine.title || ""} onInput=${(ev) => set(t.title, "title", ev.currentTarget.value)} />`}
      <//>
      ${words && (t[words] || mine[words]) && html`<${Field} id=${id + "-words"} label=${w("teamlanguages.task_words", { title: t.title })}>
        ${(p) => html`<textarea ...${p} lang=${code} rows="2" value=${mine[words] || ""} onInput=${(ev) => set(t.title, words, ev.currentTarget.value)}></textarea>`}
      <//>`}
    </div>`;
  });
}

export function TeamLanguages({ st, setS, err }) {
  loadLanguages();
  const own = st.language || "en";
  const all = st.translations || {};
  const setTr = (code, tr) => {
    const next = { ...all };
    const kept = translationOf(tr);
    if (kept) { next[code] = { ...tr }; } else { delete next[code]; }
    setS("translations", next);
  };
  return html`<fieldset class="group" data-testid="team-languages">
    <legend>${w("teamlanguages.customers_language")}</legend>
    <${Field} id="team-language" label=${w("teamlanguages.language_of_this_team")} error=${err("language")}
      hint=${w("teamlanguages.used_when_the_agent")}>
      ${(p) => html`<select ...${p} data-testid="team-language" value=${st.language || ""} onChange=${(e) => setS("language", e.currentTarget.value || undefined)}>
        <option value="">${w("teamlanguages.the_customer_s_browser")}</option>
        ${languages.value.map((l) => html`<option key=${l.code} value=${l.code} lang=${l.code}>${l.name}</option>`)}
      </select>`}
    <//>
    <p class="hint">${w("teamlanguages.texts_in_other_languages")}</p>
    ${languages.value.filter((l) => l.code !== own).map((l) => {
      const tr = all[l.code] || {};
      const tpl = tr.templates || {};
      const set = (k, v) => setTr(l.code, { ...tr, templates: { ...tpl, [k]: v } });
      const id = (k) => `tr-${l.code}-${k}`;
      const e = (k) => err(`translations.${l.code}${k}`);
      return html`<details key=${l.code} class="translation" data-testid=${"translation-" + l.code} open=${!!all[l.code] || !!e("")}>
        <summary>${w("teamlanguages.texts_in")} <span lang=${l.code}>${l.name}</span>${all[l.code] ? "" : html` <span class="muted">${w("teamlanguages.built_in")}</span>`}</summary>
        ${e("") && html`<p class="field-error">${e("")}</p>`}
        <${Field} id=${id("subject")} label=${w("teamlanguages.email_subject")} error=${e(".templates.email_subject")}>
          ${(p) => html`<input ...${p} lang=${l.code} value=${tpl.email_subject || ""} onInput=${(ev) => set("email_subject", ev.currentTarget.value)} />`}
        <//>
        <${Field} id=${id("body")} label=${w("teamlanguages.email_text")} error=${e(".templates.email_body")}>
          ${(p) => html`<textarea ...${p} lang=${l.code} rows="4" value=${tpl.email_body || ""} onInput=${(ev) => set("email_body", ev.currentTarget.value)}></textarea>`}
        <//>
        <${Field} id=${id("sms")} label=${w("teamlanguages.text_message")} error=${e(".templates.sms_body")}>
          ${(p) => html`<textarea ...${p} lang=${l.code} rows="2" value=${tpl.sms_body || ""} onInput=${(ev) => set("sms_body", ev.currentTarget.value)}></textarea>`}
        <//>
        <${Field} id=${id("consent")} label=${w("teamlanguages.what_the_customer_agrees")} error=${e(".consent_text")}>
          ${(p) => html`<textarea ...${p} lang=${l.code} rows="2" data-testid=${"translation-consent-" + l.code} value=${tr.consent_text || ""}
            onInput=${(ev) => setTr(l.code, { ...tr, consent_text: ev.currentTarget.value })}></textarea>`}
        <//>
        <${TaskTexts} code=${l.code} tr=${tr} tpls=${st.task_templates || []} setTr=${setTr} e=${e} />
      </details>`;
    })}
  </fieldset>`;
}
