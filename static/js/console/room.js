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

export function RoomView({ id }) {
  const m = room(id);
  const s = m.session.value;
  const settings = m.settings.value;
  const [dialog, setDialog] = useState(null); // "end" | "reengage"
  if (!s) {
    return html`<section class="room room-empty" aria-busy=${m.state.value === "joining" ? "true" : "false"}>
      ${m.state.value === "failed"
        ? html`<div class="empty"><h1>This session cannot be opened</h1><p>${m.error.value}</p><a class="btn" href="#/">Back</a></div>`
        : html`<div class="empty"><p>Opening the room…</p></div>`}
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
          ${settings && settings.team && settings.team.name && html`<span>${settings.team.name} settings</span>`}
          <span title=${when(s.created_at)}>${s.state === "planned" ? "planned" : "started"} ${when(s.created_at)}</span>
          <span class=${cx("badge", "badge-" + s.state)} data-testid="session-state">${SESSION_STATE[s.state]}</span>
          ${settings && settings.customer_authentication === "pin" && me.value && s.agent_id === me.value.id && html`<${SessionPIN} id=${s.id} />`}
        </p>
      </div>
      <div class="room-actions">
        ${s.state === "planned" && html`<button type="button" class="btn btn-primary" data-testid="invite"
          onClick=${() => invite(m)}>Invite ${them}</button>`}
        ${s.state === "ended" && html`<button type="button" class="btn" onClick=${() => renew(m)}>Renew</button>`}
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
    announce("The session is open again, as it was.");
  } catch (e) {
    announce(plainError(e), "bad");
  }
}

async function generate(m) {
  try {
    const link = await agentApi.post(`/api/sessions/${m.id}/link`);
    m.link.value = link;
    announce("A new session URL is ready.");
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
  announce(ok ? "Copied the session URL." : "Select the URL and copy it with Ctrl+C.", ok ? "ok" : "bad");
}

// checkRecord walks the session's hash chain and says what it found.
async function checkRecord(m) {
  try {
    const v = await agentApi.get(`/api/sessions/${m.id}/verify`);
    if (v.ok) {
      announce(`The record checks out: ${v.events} ${v.events === 1 ? "event" : "events"}, none changed since logged.`);
    } else {
      announce(`Event #${v.first_bad_seq} of the record was changed after it was logged.`, "bad");
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
    announce("The customer may try again.");
  } catch (e) {
    announce(e.status === 404 || e.status === 405 ? "Unlocking is not available on this server yet." : plainError(e), "bad");
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
  return html`<${Menu} label="Session" testid="session-menu">
    ${(close) => html`
      <${MenuItem} testid="generate-url" label="Generate session URL" disabled=${s.state !== "active"}
        note=${s.state === "active" ? `A new link${life ? `, valid ${life}` : ""}; earlier links keep working`
          : s.state === "planned" ? "Invite first: links are for active sessions" : "Not available: the session has ended"}
        onClick=${() => { close(); generate(m); }} />
      <${MenuItem} testid="menu-copy-url" label="Copy URL" disabled=${!m.link.value}
        note=${m.link.value ? "Copy the link generated last" : "Generate a session URL first"}
        onClick=${() => { close(); copyLink(m); }} />
      <div class="menu-sep" role="separator"></div>
      <${MenuItem} testid="reengage" label="Re-engage" disabled=${s.state === "ended" || joined}
        note=${s.state === "ended" ? "Not available: the session has ended"
          : joined ? `Not available: ${them} already joined`
            : s.state === "planned" ? "Change the contact details; nothing is sent until you invite"
              : "Change the contact details and send a new invitation"}
        onClick=${() => { close(); open("reengage"); }} />
      ${locked && html`<${MenuItem} testid="unlock" label="Unlock"
        note=${ind.locked_until ? `Locked after wrong answers until ${clock(ind.locked_until)}: let ${them} try again now` : `Let ${them} try again`}
        onClick=${() => { close(); unlock(m); }} />`}
      <div class="menu-sep" role="separator"></div>
      <${MenuItem} testid="download-record" label="Download record"
        note="A zip of the conversation, every file and how to check their signatures"
        onClick=${() => { close(); downloadRecord(m); }} />
      <${MenuItem} testid="check-record" label="Check record"
        note="Make sure nothing in the conversation was changed after it happened"
        onClick=${() => { close(); checkRecord(m); }} />
      <div class="menu-sep" role="separator"></div>
      <${MenuItem} testid="end-session" danger=${true} label=${s.state === "planned" ? "Cancel the plan" : "End session"}
        disabled=${s.state === "ended"}
        note=${s.state === "ended" ? "Already ended" : s.state === "planned" ? `${first} was never invited` : endAccessShort(access, first)}
        onClick=${() => { close(); open("end"); }} />
      ${me.value && me.value.role === "admin" && html`<${MenuItem} testid="erase-session" danger=${true}
        label="Erase customer data" disabled=${s.state !== "ended"}
        note=${s.state === "ended" ? "For a data-protection request: the customer's details, messages and files" : "End the session first"}
        onClick=${() => { close(); open("erase"); }} />`}
      <${MenuItem} testid="renew-session" label="Renew session" disabled=${s.state !== "ended"}
        note=${s.state === "ended" ? "Reopen it as it was: tasks, conversation and links" : "Available after the session ends"}
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
      <button type="button" class="icon-btn" aria-label="Dismiss" onClick=${() => { m.outcome.value = null; }}><${Icon} name="x" /></button>
    </div>`}
    ${link && html`<div class="banner banner-link" data-testid="link-bar">
      <label for="session-url" class="link-label"><${Icon} name="link" /> Session URL</label>
      <input id="session-url" ref=${input} class="link-url" readonly value=${link.url} data-testid="session-url"
        onFocus=${(e) => e.currentTarget.select()} />
      <button type="button" class="btn btn-primary" data-testid="copy-url" onClick=${() => copyLink(m, input.current)}>
        <${Icon} name="copy" /> Copy URL</button>
      <span class="link-note" role="status" data-testid="copy-status">${link.copied ? "Copied" : link.copyFailed ? "Press Ctrl+C to copy" : `Valid until ${when(link.expires_at)}`}</span>
      <button type="button" class="icon-btn" aria-label="Hide the URL" onClick=${() => { m.link.value = null; }}><${Icon} name="x" /></button>
    </div>`}
    ${s.state === "planned" && html`<div class="banner banner-plan" data-testid="planned-banner">
      <span><strong>Planned.</strong> Add what ${them} should do, then send the invitation: nothing reaches them before.</span>
    </div>`}
    ${s.state !== "ended" && emptySigns(s).length > 0 && html`<div class="banner banner-warn" role="status" data-testid="empty-sign-warning">
      <span><strong>${emptySigns(s).map((t) => `“${t.title}”`).join(", ")} ${emptySigns(s).length === 1 ? "has" : "have"} no document yet.</strong>
        ${s.state === "planned" ? `Attach the PDF in the task list before you invite ${them}, or ${them} will have nothing to sign.` : `Attach the PDF in the task list: ${them} waits for it.`}</span>
    </div>`}
    ${s.state === "ended" && html`<div class="banner banner-ended" data-testid="ended-banner">
      <span><strong>Ended ${when(s.ended_at)}.</strong> ${endAccessWords(s.end_access, first)} Renew the session to carry on.</span>
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
    const state = !agent ? "" : it.seq === seenAt ? "Seen" : deliveredAt(s, presence, it.at) ? "Delivered" : "Sent";
    rows.push(html`<li class=${cx("msg", agent ? "msg-out" : "msg-in")} key=${"e" + it.seq} data-seq=${it.seq}>
      <div class="bubble">
        ${agent && !it.mine && html`<p class="msg-who">${it.name}</p>`}
        <p class="msg-text">${it.text}</p>
        <p class="msg-meta"><time datetime=${it.at}>${clock(it.at)}</time>${state && html` · <span data-testid="msg-state" data-seen=${state === "Seen" ? "true" : undefined}>${state}</span>`}</p>
      </div>
    </li>`);
  }
  for (const p of waiting) {
    day(p.at);
    rows.push(html`<li class=${cx("msg", "msg-out", "msg-pending", p.state === "failed" && "msg-failed")} key=${"p" + p.id}>
      <div class="bubble">
        <p class="msg-text">${p.text}</p>
        <p class="msg-meta">${p.state === "failed"
          ? html`<span class="error-text">Not sent: ${p.error}</span>
              <button type="button" class="link-btn" onClick=${() => { m.dropSend(p.id); m.send(p.text); }}>Try again</button>
              <button type="button" class="link-btn" onClick=${() => m.dropSend(p.id)}>Discard</button>`
          : conn.value.state === "open" ? html`<span data-testid="msg-state">Sending…</span>` : html`<span data-testid="msg-state">Waiting for the connection…</span>`}</p>
      </div>
    </li>`);
  }

  return html`<section class="chat" aria-label="Conversation">
    <ol class="timeline" ref=${log} role="log" aria-relevant="additions" aria-label="Conversation with ${them}" data-testid="chat-log" tabindex="0">
      ${rows.length === 0 && html`<li class="timeline-empty">${s.state === "planned"
        ? `Nothing yet. Messages you write now wait for ${them} in the room.`
        : `No messages yet. ${first} sees what you write here.`}</li>`}
      ${rows}
    </ol>
    <p class="typing" aria-live="polite" data-testid="typing">${m.typing.value ? `${first} is typing…` : ""}</p>
    <form class="composer" onSubmit=${submit}>
      <label for="chat-input" class="sr-only">Message to ${them}</label>
      <textarea id="chat-input" data-testid="chat-input" rows="1" maxlength="4000" disabled=${ended}
        placeholder=${ended ? "The session has ended: renew it to write again" : `Write to ${them}`} value=${text}
        onInput=${(e) => { setText(e.currentTarget.value); live && live.typing(m.topic); }} onKeyDown=${onKey}></textarea>
      <button type="submit" class="btn btn-primary" data-testid="chat-send" disabled=${ended || !text.trim()}>
        <${Icon} name="send" /> Send</button>
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
    if (pick === "adhoc" && !body.title) { setError("Give the task a title the customer will understand."); return; }
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
      announce(`Assigned “${t.title}”.`);
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
      announce(`Withdrew “${t.title}”.`);
    } catch (err) {
      announce(plainError(err), "bad");
    }
  };

  return html`<aside class="tasks-panel" aria-labelledby="tasks-h">
    <div class="tasks-head">
      <h2 id="tasks-h">Tasks</h2>
      <span class="tasks-progress" data-testid="task-progress">${tasks.length ? `${done} of ${tasks.length} done` : "None yet"}</span>
    </div>
    ${tasks.length > 0 && html`<div class="bar" aria-hidden="true"><span class="bar-fill" style=${{ width: Math.round((done / tasks.length) * 100) + "%" }}></span></div>`}
    <ul class="task-list" data-testid="task-list">
      ${tasks.map((t) => {
        const ok = t.status === "completed";
        return html`<li key=${t.id} class=${cx("task", ok ? "task-done" : "task-pending")} data-status=${t.status} data-testid="task">
          <span class="task-icon" title=${ok ? "Done" : "To do"}><${Icon} name=${ok ? "check" : "pencil"} /><span class="sr-only">${ok ? "Done:" : "To do:"}</span></span>
          <span class="task-body">
            <span class="task-title">${t.title}</span>
            <span class="task-meta">${TASK_KINDS[t.kind] || t.kind} · ${ok ? `done ${clock(t.completed_at)}` : `assigned ${clock(t.assigned_at)}`}</span>
          </span>
          ${!ok && canAct && html`<button type="button" class="icon-btn" data-testid="task-withdraw"
            aria-label=${`Withdraw “${t.title}”`} title="Withdraw" onClick=${() => withdraw(t)}><${Icon} name="trash" /></button>`}
          ${!ok && t.kind === "sign" && !t.document_id && html`<span class="task-warn" data-testid="task-no-document">No document yet</span>`}
          ${!ok && canAct && t.kind === "sign" && html`<${AttachPdf} m=${m} t=${t} />`}
          ${ok && t.kind === "form" && html`<${Answers} t=${t} />`}
          ${ok && t.kind === "consent" && html`<span class="task-answer" data-testid="consent-answer">${resultOf(t).agreed ? "Agreed" : "Did not agree"}</span>`}
        </li>`;
      })}
    </ul>
    ${tasks.length === 0 && html`<p class="muted small" data-testid="task-list-empty">${!canAct ? "No tasks were assigned." : s.state === "planned" ? `Tasks you assign wait for the invitation: nothing reaches ${them} before.` : `Tasks you assign appear on ${them}'s page at once.`}</p>`}
    ${canAct && html`<form class="task-form" onSubmit=${add} data-testid="task-form">
      <label for=${templates.length ? "task-template" : "task-title"}>Assign a task</label>
      ${templates.length > 0 && html`<select id="task-template" data-testid="task-template" value=${pick}
          onChange=${(e) => setChoice(e.currentTarget.value)}>
        <optgroup label=${`${(settings && settings.team && settings.team.name) || "Team"} templates`}>
          ${templates.map((t, i) => html`<option key=${i} value=${String(i)}>${t.title}</option>`)}
        </optgroup>
        <option value="adhoc">Something else…</option>
      </select>`}
      ${pick !== "adhoc" && templates[Number(pick)] && templates[Number(pick)].document && html`<p class="hint small"
        data-testid="task-template-doc">Comes with the PDF “${templates[Number(pick)].document.name}” (${size(templates[Number(pick)].document.size)}).</p>`}
      ${pick === "adhoc" && html`
        <input id="task-title" data-testid="task-title" placeholder="What should ${them} do?" value=${title}
          aria-label=${templates.length ? "Task title" : undefined} maxlength="200" onInput=${(e) => setTitle(e.currentTarget.value)} />
        <div class="task-kind">
          <label for="task-kind">Kind</label>
          <select id="task-kind" data-testid="task-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
            ${Object.entries(TASK_KINDS).map(([k, v]) => html`<option key=${k} value=${k}>${v}</option>`)}
          </select>
        </div>
        ${kind === "sign" && html`<div class="task-kind">
          <label for="task-pdf">PDF to sign</label>
          <input id="task-pdf" type="file" accept="application/pdf" data-testid="task-pdf" ref=${pdfInput}
            onChange=${(e) => setPdf(e.currentTarget.files[0] || null)} />
        </div>`}
        ${(kind === "consent" || kind === "upload") && html`<div class="task-kind">
          <label for="task-text">${kind === "consent" ? "What the customer agrees to" : "What to send (optional)"}</label>
          <textarea id="task-text" data-testid="task-text" rows="3" maxlength="10000" value=${text}
            onInput=${(e) => setText(e.currentTarget.value)}></textarea>
        </div>`}`}
      ${error && html`<p class="field-error" role="alert">${error}</p>`}
      <button type="submit" class="btn" data-testid="task-add" disabled=${busy}><${Icon} name="plus" /> Assign</button>
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
      announce(`Attached ${file.name} to “${t.title}”.`);
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
      data-testid="task-attach">${t.document_id ? "Replace PDF" : "Attach PDF"}</button>
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
    ${rows.map(([k, v]) => html`<div key=${k}><dt>${labels[k] || k}</dt><dd>${v === true ? "Yes" : v === false ? "No" : v || "—"}</dd></div>`)}
  </dl>`;
}

const ASSET_KINDS = { document: "Document to sign", signed: "Signed copy", upload: "Upload", form: "Form answers", certificate: "Completion certificate" };

function size(n) {
  return n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
}

// sealLine says how a signed copy is sealed, in plain words.
function sealLine(seal) {
  const at = seal.timestamp ? `timestamped ${when(seal.timestamp)}` : "not timestamped";
  return `Digitally signed by ${seal.signer} · ${at}`;
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
  if (error) { return html`<section class="assets-panel"><h2>Files</h2><p class="field-error">${error}</p></section>`; }
  if (!list || list.length === 0) { return null; }
  return html`<section class="assets-panel" aria-labelledby="assets-h" data-testid="assets">
    <h2 id="assets-h">Files</h2>
    <ul class="asset-list">
      ${list.map((a) => html`<li key=${a.id} class="asset" data-testid="asset" data-kind=${a.kind} data-id=${a.id} data-sha256=${a.sha256}>
        <span class="asset-icon" aria-hidden="true"><${Icon} name="file" /></span>
        <span class="asset-body">
          <span class="asset-name">${a.name}</span>
          <span class="asset-meta">${ASSET_KINDS[a.kind] || a.kind} · ${size(a.size)} · ${clock(a.at)}</span>
          ${a.audit && a.audit.seal && html`<span class="asset-seal" data-testid="asset-seal">${sealLine(a.audit.seal)}</span>`}
          ${a.kind === "signed" && a.audit && html`<details class="audit" data-testid="audit">
            <summary>Signature record</summary>
            <dl>
              <div><dt>Signed by</dt><dd>${a.audit.signer} (${a.audit.method === "drawn" ? "drawn signature" : "typed name"})</dd></div>
              <div><dt>When</dt><dd>${when(a.audit.at)}</dd></div>
              <div><dt>From</dt><dd>${a.audit.ip} · ${a.audit.user_agent}</dd></div>
              <div><dt>Checks passed</dt><dd>identity ${a.audit.gates.authentication.replace("_", " ")}, consent ${a.audit.gates.consent.replace("_", " ")}</dd></div>
              <div><dt>Original SHA-256</dt><dd class="hash">${a.audit.original_sha256}</dd></div>
              <div><dt>Signed copy SHA-256</dt><dd class="hash" data-testid="audit-sha256">${a.audit.signed_sha256}</dd></div>
              ${a.audit.seal && html`<div><dt>Sealed with</dt><dd>${a.audit.seal.signer}${a.audit.seal.self_signed ? " (a self-signed certificate: readers show the seal intact but its signer unknown)" : ""}, certificate SHA-256 <span class="hash">${a.audit.seal.fingerprint_sha256}</span></dd></div>
              <div><dt>Timestamp</dt><dd>${a.audit.seal.timestamp ? when(a.audit.seal.timestamp) : `none: ${a.audit.seal.timestamp_error}`}</dd></div>`}
            </dl>
          </details>`}
        </span>
        ${a.deleted_at
          ? html`<span class="muted small">Deleted ${clock(a.deleted_at)}</span>`
          : html`<a class="btn btn-small" href=${`/api/sessions/${encodeURIComponent(m.id)}/assets/${encodeURIComponent(a.id)}`}
              download=${a.name} data-testid="asset-download" aria-label=${`Download ${a.name}`}><${Icon} name="download" /></a>`}
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
      announce(planned ? "The plan is cancelled." : "The session has ended.");
    } catch (e) {
      setError(plainError(e));
      setBusy(false);
    }
  };
  return html`<${Dialog} title=${planned ? "Cancel this plan?" : `End the session with ${them}?`} onClose=${onClose}
      describedBy="end-what" testid="end-dialog">
    <div id="end-what">
      ${planned
        ? html`<p>${first} was never invited, so nothing reaches them.</p>`
        : html`<p data-testid="end-access">${access ? endAccessWords(access, first) : "Loading what the customer keeps…"}</p>`}
      <p class="muted">You can renew it later: tasks, conversation and links come back as they were.</p>
    </div>
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${onClose}>Keep it open</button>
      <button type="button" class="btn btn-danger" data-testid="end-confirm" disabled=${busy} onClick=${end}>
        ${planned ? "Cancel the plan" : "End session"}</button>
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
      announce(`Erased: ${out.messages} ${out.messages === 1 ? "message" : "messages"} and ${out.files} ${out.files === 1 ? "file" : "files"}. The record still checks out.`);
    } catch (e) {
      setError(plainError(e));
      setBusy(false);
    }
  };
  return html`<${Dialog} title=${`Erase ${them}'s data?`} onClose=${onClose} describedBy="erase-what" testid="erase-dialog">
    <div id="erase-what">
      <p>This cannot be undone. What goes, from every node and the file store:</p>
      <ul>
        <li>${first}'s name, email and phone number</li>
        <li>what every message said, and every form answer</li>
        <li>every file: documents, signed copies, uploads</li>
      </ul>
      <p class="muted">What stays: that each event happened and when, its fingerprint in the record's chain (so the record still checks out), and a note of this erasure with your name.</p>
    </div>
    ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
    <div class="dialog-actions">
      <button type="button" class="btn" onClick=${onClose}>Keep the data</button>
      <button type="button" class="btn btn-danger" data-testid="erase-confirm" disabled=${busy} onClick=${erase}>Erase for good</button>
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
      announce("Contact details changed. Earlier links no longer work.");
    } catch (err) {
      const [fe, rest] = apiErrors(err, f);
      setErrors(fe);
      setGeneral(rest);
      setBusy(false);
      focusFirstError(form);
    }
  };
  return html`<${Dialog} title=${`Re-engage ${them}`} onClose=${onClose} cls="dialog-form" testid="reengage-dialog">
    <form ref=${form} onSubmit=${submit} novalidate>
      <p class="lead">${s.state === "planned"
        ? "Correct the contact details. Nothing is sent until you invite."
        : "Correct the contact details: a new invitation goes out, and the links sent before stop working."}</p>
      <${Field} id="re-name" label="Customer name" optional=${true} error=${errors.name}>
        ${(p) => html`<input ...${p} data-testid="customer-name" value=${f.name} onInput=${(e) => setF({ ...f, name: e.currentTarget.value })} maxlength="200" />`}
      <//>
      <${ContactFields} f=${f} setF=${setF} errors=${errors} idPrefix="re" />
      <${LanguageField} id="re-language" value=${f.language} onChange=${(e) => setF({ ...f, language: e.currentTarget.value })} error=${errors.language} />
      ${general && html`<p class="notice notice-bad" role="alert">${general}</p>`}
      <div class="dialog-actions">
        <button type="button" class="btn" onClick=${onClose}>Cancel</button>
        <button type="submit" class="btn btn-primary" data-testid="reengage-submit" disabled=${busy}>
          ${s.state === "planned" ? "Save the details" : "Send a new invitation"}</button>
      </div>
    </form>
  <//>`;
}

// Home is the main area with no room open.
export function Home() {
  const a = me.value;
  return html`<section class="room room-empty">
    <div class="empty">
      <h1>Hello, ${a.name.split(" ")[0]}</h1>
      <p>Pick a session in your history, or start a new one: the room opens at once.</p>
    </div>
  </section>`;
}
