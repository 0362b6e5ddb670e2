// The collaboration room: the customer indicator and the session menu at
// the top, the conversation with its delivery states and what happened,
// and the tasks. Every control follows the session's state (planned,
// active, ended): nothing offers what the server would refuse.
import {
  html, useState, useEffect, useRef, useLayoutEffect, Icon, IndicatorPill, Dialog, Field, Menu, MenuItem,
  announce, copyText, cx,
} from "../ui.js";
import { agentApi } from "../api.js";
import {
  SESSION_STATE, TASK_KINDS, clock, dayKey, dayLabel, when, durationWords, endAccessWords, endAccessShort,
  plainError, customerName, firstName, midName, contactOf,
} from "../words.js";
import { me, room, conn, live } from "./state.js";
import { useReadWatch, lastRead } from "../seen.js";
import { FollowupCard, followupFacts } from "./followups.js";
import { ContactFields, contactErrors, customerBody, apiErrors, focusFirstError, SessionPIN, LanguageField } from "./newsession.js";
import { loadLanguages } from "./languages.js";
import { w, wx, wn } from "./catalog.js";

export function RoomView({ id }) {
  const m = room(id);
  const s = m.session.value;
  const settings = m.settings.value;
  const [dialog, setDialog] = useState(null); // "end" | "reengage"
  if (!s) {
    return html`<section class="room room-empty" aria-busy=${m.state.value === "joining" ? "true" : "false"}>
      ${m.state.value === "failed"
        ? html`<div class="empty"><h1>${w("room.this_session_cannot_be")}</h1><p>${m.error.value}</p><a class="btn" href="#/">${w("room.back")}</a></div>`
        : html`<div class="empty"><p>${w("room.opening_the_room")}</p></div>`}
    </section>`;
  }
  const first = firstName(s.customer);
  const them = midName(s.customer);
  const canAct = s.state !== "ended";
  return html`<section class="room" aria-labelledby="room-title" data-session=${s.id} data-state=${s.state}>
    <header class="room-head">
      <${IndicatorPill} ind=${s.indicator} method=${settings && settings.customer_authentication} extra=${followupFacts(s)} />
      <div class="room-title">
        <h1 id="room-title">${customerName(s.customer)}</h1>
        <p class="room-meta">
          ${contactOf(s.customer) && html`<span>${contactOf(s.customer)}</span>`}
          ${settings && settings.team && settings.team.name && html`<span>${settings.team.name} ${w("room.settings")}</span>`}
          <span title=${when(s.created_at)}>${s.state === "planned" ? w("room.planned_when", { when: when(s.created_at) }) : w("room.started_when", { when: when(s.created_at) })}</span>
          <span class=${cx("badge", "badge-" + s.state)} data-testid="session-state">${SESSION_STATE[s.state]}</span>
          ${settings && settings.customer_authentication === "pin" && me.value && s.agent_id === me.value.id && html`<${SessionPIN} id=${s.id} />`}
        </p>
      </div>
      <div class="room-actions">
        ${s.state === "planned" && html`<button type="button" class="btn btn-primary" data-testid="invite"
          onClick=${() => invite(m)}>${w("room.invite")} ${them}</button>`}
        ${s.state === "ended" && html`<button type="button" class="btn" onClick=${() => renew(m)}>${w("room.renew")}</button>`}
        <${SessionMenu} m=${m} s=${s} settings=${settings} open=${setDialog} />
      </div>
    </header>
    <${Banners} m=${m} s=${s} settings=${settings} />
    <${FollowupCard} m=${m} s=${s} />
    <div class="room-body">
      <${Chat} m=${m} s=${s} />
      <${Tasks} m=${m} s=${s} settings=${settings} canAct=${canAct} />
    </div>
    ${dialog === "end" && html`<${EndDialog} m=${m} s=${s} settings=${settings} onClose=${() => setDialog(null)} />`}
    ${dialog === "erase" && html`<${EraseDialog} m=${m} s=${s} onClose=${() => setDialog(null)} />`}
    ${dialog === "reengage" && html`<${ReengageDialog} m=${m} s=${s} onClose=${() => setDialog(null)} />`}
  </section>`;
}

async function invite(m) {
  try {
    const s = await m.act("invite");
    m.noteInvitation(s);
  } catch (e) {
    announce(plainError(e), "bad");
  }
}

async function renew(m) {
  try {
    await m.act("renew");
    announce(w("room.the_session_is_open"));
  } catch (e) {
    announce(plainError(e), "bad");
  }
}

async function generate(m) {
  try {
    const link = await agentApi.post(`/api/sessions/${m.id}/link`);
    m.link.value = link;
    announce(w("room.a_new_session_url"));
    requestAnimationFrame(() => {
      const el = document.querySelector("[data-testid=session-url]");
      if (el) { el.focus(); el.select(); }
    });
  } catch (e) {
    announce(plainError(e), "bad");
  }
}

async function copyLink(m, input) {
  const link = m.link.value;
  if (!link) { return; }
  const ok = await copyText(link.url, input || document.querySelector("[data-testid=session-url]"));
  m.link.value = { ...link, copied: ok ? Date.now() : 0, copyFailed: !ok };
  announce(ok ? w("room.copied_the_session_url") : w("room.select_the_url_and"), ok ? "ok" : "bad");
}

// checkRecord walks the session's hash chain and says what it found.
async function checkRecord(m) {
  try {
    const v = await agentApi.get(`/api/sessions/${m.id}/verify`);
    if (v.ok) {
      announce(wn("room.the_record_checks_out", v.events));
    } else {
      announce(w("room.event_of_the_record", { first_bad_seq: v.first_bad_seq }), "bad");
    }
  } catch (e) {
    announce(plainError(e), "bad");
  }
}

// downloadRecord saves the session's record (a zip) as the browser
// saves any download.
function downloadRecord(m) {
  const a = document.createElement("a");
  a.href = `/api/sessions/${encodeURIComponent(m.id)}/export`;
  a.download = `cohub-session-${m.id}.zip`;
  document.body.append(a);
  a.click();
  a.remove();
}

async function unlock(m) {
  try {
    await agentApi.post(`/api/sessions/${m.id}/unlock`);
    await m.refetch();
    announce(w("room.the_customer_may_try"));
  } catch (e) {
    announce(e.status === 404 || e.status === 405 ? w("room.unlocking_is_not_available") : plainError(e), "bad");
  }
}

// emptySigns are the pending sign tasks without their document.
function emptySigns(s) {
  return (s.tasks || []).filter((t) => t.kind === "sign" && t.status !== "completed" && !t.document_id);
}

function SessionMenu({ m, s, settings, open }) {
  const first = firstName(s.customer);
  const them = midName(s.customer);
  const joined = s.indicator && s.indicator.joined;
  const access = settings && settings.end_session_access;
  const life = settings && settings.customer_access_duration ? durationWords(settings.customer_access_duration) : "";
  const ind = s.indicator || {};
  const locked = ind.authentication === "locked" && "locked_until" in ind;
  return html`<${Menu} label=${w("room.session")} testid="session-menu">
    ${(close) => html`
      <${MenuItem} testid="generate-url" label=${w("room.generate_session_url")} disabled=${s.state !== "active"}
        note=${s.state === "active" ? w("room.a_new_link_earlier", { value: life ? w("room.valid", { life }) : "" })
          : s.state === "planned" ? w("room.invite_first_links_are") : w("room.not_available_the_session")}
        onClick=${() => { close(); generate(m); }} />
      <${MenuItem} testid="menu-copy-url" label=${w("room.copy_url")} disabled=${!m.link.value}
        note=${m.link.value ? w("room.copy_the_link_generated") : w("room.generate_a_session_url")}
        onClick=${() => { close(); copyLink(m); }} />
      <div class="menu-sep" role="separator"></div>
      <${MenuItem} testid="reengage" label=${w("room.re_engage")} disabled=${s.state === "ended" || joined}
        note=${s.state === "ended" ? w("room.not_available_the_session")
          : joined ? w("room.not_available_already_joined", { them })
            : s.state === "planned" ? w("room.change_the_contact_details")
              : w("room.change_the_contact_details_b")}
        onClick=${() => { close(); open("reengage"); }} />
      ${locked && html`<${MenuItem} testid="unlock" label=${w("room.unlock")}
        note=${ind.locked_until ? w("room.locked_after_wrong_answers", { clock: clock(ind.locked_until), them }) : w("room.let_try_again", { them })}
        onClick=${() => { close(); unlock(m); }} />`}
      <div class="menu-sep" role="separator"></div>
      <${MenuItem} testid="download-record" label=${w("room.download_record")}
        note=${w("room.a_zip_of_the")}
        onClick=${() => { close(); downloadRecord(m); }} />
      <${MenuItem} testid="check-record" label=${w("room.check_record")}
        note=${w("room.make_sure_nothing_in")}
        onClick=${() => { close(); checkRecord(m); }} />
      <div class="menu-sep" role="separator"></div>
      <${MenuItem} testid="end-session" danger=${true} label=${s.state === "planned" ? w("room.cancel_the_plan") : w("room.end_session")}
        disabled=${s.state === "ended"}
        note=${s.state === "ended" ? w("room.already_ended") : s.state === "planned" ? w("room.was_never_invited", { first }) : endAccessShort(access, first)}
        onClick=${() => { close(); open("end"); }} />
      ${me.value && me.value.role === "admin" && html`<${MenuItem} testid="erase-session" danger=${true}
        label=${w("room.erase_customer_data")} disabled=${s.state !== "ended"}
        note=${s.state === "ended" ? w("room.for_a_data_protection") : w("room.end_the_session_first")}
        onClick=${() => { close(); open("erase"); }} />`}
      <${MenuItem} testid="renew-session" label=${w("room.renew_session")} disabled=${s.state !== "ended"}
        note=${s.state === "ended" ? w("room.reopen_it_as_it") : w("room.available_after_the_session")}
        onClick=${() => { close(); renew(m); }} />`}
  <//>`;
}

function Banners({ m, s, settings }) {
  const outcome = m.outcome.value;
  const link = m.link.value;
  const first = firstName(s.customer);
  const them = midName(s.customer);
  const input = useRef(null);
  return html`
    ${outcome && html`<div class=${cx("banner", "banner-" + outcome.kind)} role="status" data-testid="invitation-outcome">
      <span>${outcome.text}</span>
      <button type="button" class="icon-btn" aria-label=${w("room.dismiss")} onClick=${() => { m.outcome.value = null; }}><${Icon} name="x" /></button>
    </div>`}
    ${link && html`<div class="banner banner-link" data-testid="link-bar">
      <label for="session-url" class="link-label"><${Icon} name="link" /> ${w("room.session_url")}</label>
      <input id="session-url" ref=${input} class="link-url" readonly value=${link.url} data-testid="session-url"
        onFocus=${(e) => e.currentTarget.select()} />
      <button type="button" class="btn btn-primary" data-testid="copy-url" onClick=${() => copyLink(m, input.current)}>
        <${Icon} name="copy" /> ${w("room.copy_url")}</button>
      <span class="link-note" role="status" data-testid="copy-status">${link.copied ? w("room.copied") : link.copyFailed ? w("room.press_ctrl_c_to") : w("room.valid_until", { when: when(link.expires_at) })}</span>
      <button type="button" class="icon-btn" aria-label=${w("room.hide_the_url")} onClick=${() => { m.link.value = null; }}><${Icon} name="x" /></button>
    </div>`}
    ${s.state === "planned" && html`<div class="banner banner-plan" data-testid="planned-banner">
      <span><strong>${w("room.planned")}</strong> ${wx("room.add_what_should_do", { them })}</span>
    </div>`}
    ${s.state !== "ended" && emptySigns(s).length > 0 && html`<div class="banner banner-warn" role="status" data-testid="empty-sign-warning">
      <span><strong>${wn("room.no_document_yet", emptySigns(s).length, { titles: emptySigns(s).map((t) => w("room.quoted", { title: t.title })).join(", ") })}</strong>
        ${s.state === "planned" ? w("room.attach_the_pdf_in", { them }) : w("room.attach_the_pdf_in_b", { them })}</span>
    </div>`}
    ${s.state === "ended" && html`<div class="banner banner-ended" data-testid="ended-banner">
      <span><strong>${wx("room.ended", { when: when(s.ended_at) })}</strong> ${endAccessWords(s.end_access, first)} ${w("room.renew_the_session_to")}</span>
    </div>`}
    ${m.state.value === "failed" && html`<div class="banner banner-bad" role="alert">${m.error.value}</div>`}`;
}

// Chat -----------------------------------------------------------------

function deliveredAt(s, presence, at) {
  const ind = s.indicator || {};
  if (presence.customer_online || ind.online) { return true; }
  return !!(ind.last_seen_at && new Date(ind.last_seen_at) >= new Date(at));
}

function Chat({ m, s }) {
  const items = m.items.value;
  const sends = m.sends.value;
  const presence = m.presence.value;
  const log = useRef(null);
  const [text, setText] = useState("");
  const first = firstName(s.customer);
  const them = midName(s.customer);
  const ended = s.state === "ended";
  const seqs = new Set(items.map((i) => i.seq));
  const waiting = sends.filter((p) => !(p.seq && seqs.has(p.seq)));

  useEffect(() => {
    // Sends whose message arrived are done with.
    const done = sends.filter((p) => p.seq && seqs.has(p.seq));
    if (done.length) { done.forEach((p) => m.dropSend(p.id)); }
  }, [items.length, sends]);

  useLayoutEffect(() => {
    const el = log.current;
    if (el) { el.scrollTop = el.scrollHeight; }
  }, [items.length, waiting.length, m.typing.value]);
  useReadWatch(log, (seq) => live && live.read(m.topic, seq), [items.length]);
  // "Seen" goes under the agents' last message the customer has read.
  const seenAt = lastRead(items, (it) => it.k === "msg" && it.role === "agent", m.customerRead.value);

  const submit = (e) => {
    e.preventDefault();
    const t = text.trim();
    if (!t || ended) { return; }
    m.send(t);
    setText("");
  };
  const onKey = (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { submit(e); }
  };

  const rows = [];
  let lastDay = "";
  const day = (at) => {
    const k = dayKey(at);
    if (k !== lastDay) {
      lastDay = k;
      rows.push(html`<li class="day" key=${"d" + k}><span>${dayLabel(at)}</span></li>`);
    }
  };
  for (const it of items) {
    day(it.at);
    if (it.k === "note") {
      rows.push(html`<li class=${cx("note", it.tone && "note-" + it.tone)} key=${"e" + it.seq}>
        <span>${it.text}</span> <time datetime=${it.at}>${clock(it.at)}</time></li>`);
      continue;
    }
    const agent = it.role === "agent";
    const state = !agent ? "" : it.seq === seenAt ? w("room.seen") : deliveredAt(s, presence, it.at) ? w("room.delivered") : w("room.sent");
    rows.push(html`<li class=${cx("msg", agent ? "msg-out" : "msg-in")} key=${"e" + it.seq} data-seq=${it.seq}>
      <div class="bubble">
        ${agent && !it.mine && html`<p class="msg-who">${it.name}</p>`}
        <p class="msg-text">${it.text}</p>
        <p class="msg-meta"><time datetime=${it.at}>${clock(it.at)}</time>${state && html` · <span data-testid="msg-state" data-seen=${state === w("room.seen") ? "true" : undefined}>${state}</span>`}</p>
      </div>
    </li>`);
  }
  for (const p of waiting) {
    day(p.at);
    rows.push(html`<li class=${cx("msg", "msg-out", "msg-pending", p.state === "failed" && "msg-failed")} key=${"p" + p.id}>
      <div class="bubble">
        <p class="msg-text">${p.text}</p>
        <p class="msg-meta">${p.state === "failed"
          ? html`<span class="error-text">${w("room.not_sent")} ${p.error}</span>
              <button type="button" class="link-btn" onClick=${() => { m.dropSend(p.id); m.send(p.text); }}>${w("room.try_again")}</button>
              <button type="button" class="link-btn" onClick=${() => m.dropSend(p.id)}>${w("room.discard")}</button>`
          : conn.value.state === "open" ? html`<span data-testid="msg-state">${w("room.sending")}</span>` : html`<span data-testid="msg-state">${w("room.waiting_for_the_connection")}</span>`}</p>
      </div>
    </li>`);
  }

  return html`<section class="chat" aria-label=${w("room.conversation")}>
    <ol class="timeline" ref=${log} role="log" aria-relevant="additions" aria-label=${w("room.conversation_with", { them })} data-testid="chat-log" tabindex="0">
      ${rows.length === 0 && html`<li class="timeline-empty">${s.state === "planned"
        ? w("room.nothing_yet_messages_you", { them })
        : w("room.no_messages_yet_sees", { first })}</li>`}
      ${rows}
    </ol>
    <p class="typing" aria-live="polite" data-testid="typing">${m.typing.value ? w("room.is_typing", { first }) : ""}</p>
    <form class="composer" onSubmit=${submit}>
      <label for="chat-input" class="sr-only">${w("room.message_to")} ${them}</label>
      <textarea id="chat-input" data-testid="chat-input" rows="1" maxlength="4000" disabled=${ended}
        placeholder=${ended ? w("room.the_session_has_ended") : w("room.write_to", { them })} value=${text}
        onInput=${(e) => { setText(e.currentTarget.value); live && live.typing(m.topic); }} onKeyDown=${onKey}></textarea>
      <button type="submit" class="btn btn-primary" data-testid="chat-send" disabled=${ended || !text.trim()}>
        <${Icon} name="send" /> ${w("room.send")}</button>
    </form>
  </section>`;
}

// Tasks -----------------------------------------------------------------

function Tasks({ m, s, settings, canAct }) {
  const tasks = s.tasks || [];
  const done = tasks.filter((t) => t.status === "completed").length;
  const templates = (settings && settings.task_templates) || [];
  const [choice, setChoice] = useState("");
  const [kind, setKind] = useState("custom");
  const [title, setTitle] = useState("");
  const [text, setText] = useState("");
  const [pdf, setPdf] = useState(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const pick = choice || (templates.length ? "0" : "adhoc");
  const pdfInput = useRef(null);
  const first = firstName(s.customer);
  const them = midName(s.customer);

  const add = async (e) => {
    e.preventDefault();
    setError("");
    const body = pick === "adhoc" ? { kind, title: title.trim() } : { template: Number(pick) };
    if (pick === "adhoc" && !body.title) { setError(w("room.give_the_task_a")); return; }
    if (pick === "adhoc" && text.trim() && kind === "consent") { body.text = text.trim(); }
    if (pick === "adhoc" && text.trim() && kind === "upload") { body.instructions = text.trim(); }
    setBusy(true);
    try {
      let t = await agentApi.post(`/api/sessions/${m.id}/tasks`, body);
      m.patch((cur) => ({ ...cur, tasks: cur.tasks.filter((x) => x.id !== t.id).concat([t]) }));
      if (t.kind === "sign" && pdf) {
        t = await agentApi.upload(`/api/sessions/${m.id}/tasks/${t.id}/document`, pdf);
        m.patch((cur) => ({ ...cur, tasks: cur.tasks.map((x) => (x.id === t.id ? t : x)) }));
      }
      setTitle("");
      setText("");
      setPdf(null);
      if (pdfInput.current) { pdfInput.current.value = ""; }
      announce(w("room.assigned", { title: t.title }));
      // Ready for the next one: focus goes back to where a task starts
      // (the Assign button goes busy meanwhile, and focus would drop).
      requestAnimationFrame(() => {
        const start = document.getElementById(templates.length ? "task-template" : "task-title");
        if (start) { start.focus(); }
      });
    } catch (err) {
      setError(err.code === "validation_failed" ? Object.values(err.fields).join(" ") : plainError(err));
    } finally {
      setBusy(false);
    }
  };
  const withdraw = async (t) => {
    try {
      await agentApi.del(`/api/sessions/${m.id}/tasks/${t.id}`);
      m.patch((cur) => ({ ...cur, tasks: cur.tasks.filter((x) => x.id !== t.id) }));
      announce(w("room.withdrew", { title: t.title }));
    } catch (err) {
      announce(plainError(err), "bad");
    }
  };

  return html`<aside class="tasks-panel" aria-labelledby="tasks-h">
    <div class="tasks-head">
      <h2 id="tasks-h">${w("room.tasks")}</h2>
      <span class="tasks-progress" data-testid="task-progress">${tasks.length ? w("room.of_done", { done, value: tasks.length }) : w("room.none_yet")}</span>
    </div>
    ${tasks.length > 0 && html`<div class="bar" aria-hidden="true"><span class="bar-fill" style=${{ width: Math.round((done / tasks.length) * 100) + "%" }}></span></div>`}
    <ul class="task-list" data-testid="task-list">
      ${tasks.map((t) => {
        const ok = t.status === "completed";
        return html`<li key=${t.id} class=${cx("task", ok ? "task-done" : "task-pending")} data-status=${t.status} data-testid="task">
          <span class="task-icon" title=${ok ? w("room.done") : w("room.to_do")}><${Icon} name=${ok ? "check" : "pencil"} /><span class="sr-only">${ok ? w("room.done_b") : w("room.to_do_b")}</span></span>
          <span class="task-body">
            <span class="task-title">${t.title}</span>
            <span class="task-meta">${TASK_KINDS[t.kind] || t.kind} · ${ok ? w("room.done_b_b", { clock: clock(t.completed_at) }) : w("room.assigned_b", { clock: clock(t.assigned_at) })}</span>
          </span>
          ${!ok && canAct && html`<button type="button" class="icon-btn" data-testid="task-withdraw"
            aria-label=${w("room.withdraw", { title: t.title })} title=${w("room.withdraw_b")} onClick=${() => withdraw(t)}><${Icon} name="trash" /></button>`}
          ${!ok && t.kind === "sign" && !t.document_id && html`<span class="task-warn" data-testid="task-no-document">${w("room.no_document_yet_b")}</span>`}
          ${!ok && canAct && t.kind === "sign" && html`<${AttachPdf} m=${m} t=${t} />`}
          ${ok && t.kind === "form" && html`<${Answers} t=${t} />`}
          ${ok && t.kind === "consent" && html`<span class="task-answer" data-testid="consent-answer">${resultOf(t).agreed ? w("room.agreed") : w("room.did_not_agree")}</span>`}
        </li>`;
      })}
    </ul>
    ${tasks.length === 0 && html`<p class="muted small" data-testid="task-list-empty">${!canAct ? w("room.no_tasks_were_assigned") : s.state === "planned" ? w("room.tasks_you_assign_wait", { them }) : w("room.tasks_you_assign_appear", { them })}</p>`}
    ${canAct && html`<form class="task-form" onSubmit=${add} data-testid="task-form">
      <label for=${templates.length ? "task-template" : "task-title"}>${w("room.assign_a_task")}</label>
      ${templates.length > 0 && html`<select id="task-template" data-testid="task-template" value=${pick}
          onChange=${(e) => setChoice(e.currentTarget.value)}>
        <optgroup label=${w("room.templates", { value: (settings && settings.team && settings.team.name) || w("room.team") })}>
          ${templates.map((t, i) => html`<option key=${i} value=${String(i)}>${t.title}</option>`)}
        </optgroup>
        <option value="adhoc">${w("room.something_else")}</option>
      </select>`}
      ${pick !== "adhoc" && templates[Number(pick)] && templates[Number(pick)].document && html`<p class="hint small"
        data-testid="task-template-doc">${wx("room.comes_with_the_pdf", { value: templates[Number(pick)].document.name, size: size(templates[Number(pick)].document.size) })}</p>`}
      ${pick === "adhoc" && html`
        <input id="task-title" data-testid="task-title" placeholder=${w("room.what_should_do", { them })} value=${title}
          aria-label=${templates.length ? w("room.task_title") : undefined} maxlength="200" onInput=${(e) => setTitle(e.currentTarget.value)} />
        <div class="task-kind">
          <label for="task-kind">${w("room.kind")}</label>
          <select id="task-kind" data-testid="task-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
            ${Object.entries(TASK_KINDS).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}
          </select>
        </div>
        ${kind === "sign" && html`<div class="task-kind">
          <label for="task-pdf">${w("room.pdf_to_sign")}</label>
          <input id="task-pdf" type="file" accept="application/pdf" data-testid="task-pdf" ref=${pdfInput}
            onChange=${(e) => setPdf(e.currentTarget.files[0] || null)} />
        </div>`}
        ${(kind === "consent" || kind === "upload") && html`<div class="task-kind">
          <label for="task-text">${kind === "consent" ? w("room.what_the_customer_agrees") : w("room.what_to_send_optional")}</label>
          <textarea id="task-text" data-testid="task-text" rows="3" maxlength="10000" value=${text}
            onInput=${(e) => setText(e.currentTarget.value)}></textarea>
        </div>`}`}
      ${error && html`<p class="field-error" role="alert">${error}</p>`}
      <button type="submit" class="btn" data-testid="task-add" disabled=${busy}><${Icon} name="plus" /> ${w("room.assign")}</button>
    </form>`}
    <${Assets} m=${m} s=${s} />
  </aside>`;
}

function resultOf(t) {
  try { return typeof t.result === "string" ? JSON.parse(t.result) : (t.result || {}); } catch (e) { return {}; }
}

// AttachPdf attaches (or replaces) a pending sign task's document.
function AttachPdf({ m, t }) {
  const input = useRef(null);
  const [busy, setBusy] = useState(false);
  const attach = async (file) => {
    if (!file) { return; }
    setBusy(true);
    try {
      const task = await agentApi.upload(`/api/sessions/${m.id}/tasks/${t.id}/document`, file);
      m.patch((cur) => ({ ...cur, tasks: cur.tasks.map((x) => (x.id === task.id ? task : x)) }));
      announce(w("room.attached_to", { name: file.name, title: t.title }));
    } catch (err) {
      announce(plainError(err), "bad");
    } finally {
      setBusy(false);
      input.current.value = "";
    }
  };
  return html`<span class="task-attach">
    <input type="file" class="sr-only" accept="application/pdf" ref=${input} tabindex="-1" aria-hidden="true"
      data-testid="task-attach-input" onChange=${(e) => attach(e.currentTarget.files[0])} />
    <button type="button" class="btn btn-small" disabled=${busy} onClick=${() => input.current.click()}
      data-testid="task-attach">${t.document_id ? w("room.replace_pdf") : w("room.attach_pdf")}</button>
  </span>`;
}

// Answers lists a completed form's answers.
function Answers({ t }) {
  const answers = resultOf(t).answers || {};
  const fields = t.fields || [];
  const labels = Object.fromEntries(fields.map((d) => [d.name, d.label]));
  // In the form's order (the server's JSON sorts the keys), then any
  // answer the form no longer names.
  const known = fields.filter((d) => d.name in answers).map((d) => [d.name, answers[d.name]]);
  const rows = [...known, ...Object.entries(answers).filter(([k]) => !(k in labels))];
  if (!rows.length) { return null; }
  return html`<dl class="answers" data-testid="form-answers">
    ${rows.map(([k, v]) => html`<div key=${k}><dt>${labels[k] || k}</dt><dd>${v === true ? w("room.yes") : v === false ? w("room.no") : v || "—"}</dd></div>`)}
  </dl>`;
}

const ASSET_KINDS = { document: w("room.document_to_sign"), signed: w("room.signed_copy"), upload: w("room.upload"), form: w("room.form_answers"), certificate: w("room.completion_certificate") };

function size(n) {
  return n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
}

// sealLine says how a signed copy is sealed, in plain words.
function sealLine(seal) {
  const at = seal.timestamp ? w("room.timestamped", { when: when(seal.timestamp) }) : w("room.not_timestamped");
  return w("room.digitally_signed_by", { signer: seal.signer, at });
}

// Assets lists the session's files: signed copies with their audit
// record, uploads, form answers, documents sent to sign.
function Assets({ m, s }) {
  const [list, setList] = useState(null);
  const [error, setError] = useState("");
  // Reload when a task gains a document or completes.
  const key = (s.tasks || []).map((t) => t.id + t.status + (t.document_id || "")).join(",");
  useEffect(() => {
    let stop = false;
    agentApi.get(`/api/sessions/${m.id}/assets`).then((r) => { if (!stop) { setList(r.assets || []); } })
      .catch((e) => { if (!stop) { setError(plainError(e)); } });
    return () => { stop = true; };
  }, [key]);
  if (error) { return html`<section class="assets-panel"><h2>${w("room.files")}</h2><p class="field-error">${error}</p></section>`; }
  if (!list || list.length === 0) { return null; }
  return html`<section class="assets-panel" aria-labelledby="assets-h" data-testid="assets">
    <h2 id="assets-h">${w("room.files")}</h2>
    <ul class="asset-list">
      ${list.map((a) => html`<li key=${a.id} class="asset" data-testid="asset" data-kind=${a.kind} data-id=${a.id} data-sha256=${a.sha256}>
        <span class="asset-icon" aria-hidden="true"><${Icon} name="file" /></span>
        <span class="asset-body">
          <span class="asset-name">${a.name}</span>
          <span class="asset-meta">${ASSET_KINDS[a.kind] || a.kind} · ${size(a.size)} · ${clock(a.at)}</span>
          ${a.audit && a.audit.seal && html`<span class="asset-seal" data-testid="asset-seal">${sealLine(a.audit.seal)}</span>`}
          ${a.kind === "signed" && a.audit && html`<details class="audit" data-testid="audit">
            <summary>${w("room.signature_record")}</summary>
            <dl>
              <div><dt>${w("room.signed_by")}</dt><dd>${a.audit.signer} (${a.audit.method === "drawn" ? w("room.drawn_signature") : w("room.typed_name")})</dd></div>
              <div><dt>${w("room.when")}</dt><dd>${when(a.audit.at)}</dd></div>
              <div><dt>${w("room.from")}</dt><dd>${a.audit.ip} · ${a.audit.user_agent}</dd></div>
              <div><dt>${w("room.checks_passed")}</dt><dd>${wx("room.identity_consent", { value: a.audit.gates.authentication.replace("_", " ") })} ${a.audit.gates.consent.replace("_", " ")}</dd></div>
              <div><dt>${w("room.original_sha")}</dt><dd class="hash">${a.audit.original_sha256}</dd></div>
              <div><dt>${w("room.signed_copy_sha")}</dt><dd class="hash" data-testid="audit-sha256">${a.audit.signed_sha256}</dd></div>
              ${a.audit.seal && html`<div><dt>${w("room.sealed_with")}</dt><dd>${a.audit.seal.signer}${a.audit.seal.self_signed ? w("room.a_self_signed_certificate") : ""}${w("room.certificate_sha")} <span class="hash">${a.audit.seal.fingerprint_sha256}</span></dd></div>
              <div><dt>${w("room.timestamp")}</dt><dd>${a.audit.seal.timestamp ? when(a.audit.seal.timestamp) : w("room.none", { timestamp_error: a.audit.seal.timestamp_error })}</dd></div>`}
            </dl>
          </details>`}
        </span>
        ${a.deleted_at
          ? html`<span class="muted small">${w("room.deleted")} ${clock(a.deleted_at)}</span>`
          : html`<a class="btn btn-small" href=${`/api/sessions/${encodeURIComponent(m.id)}/assets/${encodeURIComponent(a.id)}`}
              download=${a.name} data-testid="asset-download" aria-label=${w("room.download", { name: a.name })}><${Icon} name="download" /></a>`}
      </li>`)}
    </ul>
  </section>`;
}

// Dialogs ------------------------------------------------------------------

function EndDialog({ m, s, settings, onClose }) {
  const first = firstName(s.customer);
  const them = midName(s.customer);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const planned = s.state === "planned";
  const access = settings && settings.end_session_access;
  const end = async () => {
    setBusy(true);
    try {
      await m.act("end");
      onClose();
      announce(planned ? w("room.the_plan_is_cancelled") : w("room.the_session_has_ended_b"));
    } catch (e) {
      setError(plainError(e));
      setBusy(false);
    }
  };
  return html`<${Dialog} title=${planned ? w("room.cancel_this_plan") : w("room.end_the_session_with", { them })} onClose=${onClose}
      describedBy="end-what" testid="end-dialog">
    <div id="end-what">
      ${planned
        ? html`<p>${first} ${w("room.was_never_invited_so")}</p>`
        : html`<p data-testid="end-access">${access ? endAccessWords(access, first) : w("room.loading_what_the_customer")}</p>`}
      <p class="muted">${w("room.you_can_renew_it")}</p>
    </div>
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${onClose}>${w("room.keep_it_open")}</button>
      <button type="button" class="btn btn-danger" data-testid="end-confirm" disabled=${busy} onClick=${end}>
        ${planned ? w("room.cancel_the_plan") : w("room.end_session")}</button>
    </div>
  <//>`;
}

function EraseDialog({ m, s, onClose }) {
  const first = firstName(s.customer);
  const them = midName(s.customer);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const erase = async () => {
    setBusy(true);
    try {
      const out = await agentApi.post(`/api/sessions/${m.id}/erase`);
      await m.refetch();
      onClose();
      announce(w("room.erased_and_the_record", { messages: wn("room.messages", out.messages), files: wn("room.files", out.files) }));
    } catch (e) {
      setError(plainError(e));
      setBusy(false);
    }
  };
  return html`<${Dialog} title=${w("room.erase_s_data", { them })} onClose=${onClose} describedBy="erase-what" testid="erase-dialog">
    <div id="erase-what">
      <p>${w("room.this_cannot_be_undone")}</p>
      <ul>
        <li>${first}${w("room.s_name_email_and")}</li>
        <li>${w("room.what_every_message_said")}</li>
        <li>${w("room.every_file_documents_signed")}</li>
      </ul>
      <p class="muted">${w("room.what_stays_that_each")}</p>
    </div>
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${onClose}>${w("room.keep_the_data")}</button>
      <button type="button" class="btn btn-danger" data-testid="erase-confirm" disabled=${busy} onClick=${erase}>${w("room.erase_for_good")}</button>
    </div>
  <//>`;
}

function ReengageDialog({ m, s, onClose }) {
  const a = me.value;
  const c = s.customer || {};
  const [f, setF] = useState({ name: c.name || "", channel: c.phone && !c.email ? "phone" : "email", email: c.email || "", phone: c.phone || "",
    language: s.language || "" });
  loadLanguages();
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState("");
  const [busy, setBusy] = useState(false);
  const form = useRef(null);
  const first = firstName(c);
  const them = midName(c);
  const submit = async (e) => {
    e.preventDefault();
    const errs = contactErrors(f, a);
    setErrors(errs);
    setGeneral("");
    if (Object.keys(errs).length) { focusFirstError(form); return; }
    setBusy(true);
    try {
      const out = await m.act("reengage", { customer: customerBody(f, a), language: f.language });
      if (out.state === "active") { m.noteInvitation(out); }
      m.link.value = null;
      onClose();
      announce(w("room.contact_details_changed_earlier"));
    } catch (err) {
      const [fe, rest] = apiErrors(err, f);
      setErrors(fe);
      setGeneral(rest);
      setBusy(false);
      focusFirstError(form);
    }
  };
  return html`<${Dialog} title=${w("room.re_engage_b", { them })} onClose=${onClose} cls="dialog-form" testid="reengage-dialog">
    <form ref=${form} onSubmit=${submit} novalidate>
      <p class="lead">${s.state === "planned"
        ? w("room.correct_the_contact_details")
        : w("room.correct_the_contact_details_b")}</p>
      <${Field} id="re-name" label=${w("room.customer_name")} optional=${true} error=${errors.name}>
        ${(p) => html`<input ...${p} data-testid="customer-name" value=${f.name} onInput=${(e) => setF({ ...f, name: e.currentTarget.value })} maxlength="200" />`}
      <//>
      <${ContactFields} f=${f} setF=${setF} errors=${errors} idPrefix="re" />
      <${LanguageField} id="re-language" value=${f.language} onChange=${(e) => setF({ ...f, language: e.currentTarget.value })} error=${errors.language} />
      ${general && html`<p class="notice notice-bad" role="alert">${general}</p>`}
      <div class="dialog-actions">
        <button type="button" class="btn" onClick=${onClose}>${w("room.cancel")}</button>
        <button type="submit" class="btn btn-primary" data-testid="reengage-submit" disabled=${busy}>
          ${s.state === "planned" ? w("room.save_the_details") : w("room.send_a_new_invitation")}</button>
      </div>
    </form>
  <//>`;
}

// Home is the main area with no room open.
export function Home() {
  const a = me.value;
  return html`<section class="room room-empty">
    <div class="empty">
      <h1>${w("room.hello")} ${a.name.split(" ")[0]}</h1>
      <p>${w("room.pick_a_session_in")}</p>
    </div>
  </section>`;
}
