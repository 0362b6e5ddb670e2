// The customer's page at /c/{token}: who invited them, the gates (a PIN or
// one-time code, consent), then the room: tasks as cards and the
// conversation as a sheet at the bottom. The link token goes to the API
// in the Authorization header and to the live connection in its query
// (browsers cannot set WebSocket headers); the gates' customer token is
// an HttpOnly cookie.
import { html, render, signal, useState, useEffect, useRef, useLayoutEffect, Icon, Notice, announce, cx } from "./ui.js";
import { customerApi, answer } from "./api.js";
import { Live } from "./live.js";
import { TaskWork, TaskOutcome, DownloadButton, signing } from "./tasks.js";
import { t, tn, tIsolated, clock, dayKey, dayLabel, durationWords, plainError, initials } from "./i18n.js";
import { LanguagePicker } from "./language.js";
import { useReadWatch, lastRead } from "./seen.js";

const token = decodeURIComponent(location.pathname.replace(/^\/c\//, "").replace(/\/+$/, ""));
const api = customerApi(token);

// screen: loading | invalid | expired | replaced | ended | unavailable |
//         auth | consent | declined | room
const screen = signal("loading");
const view = signal(null);

// The room's state.
const items = signal([]);
const tasks = signal([]);
const sends = signal([]);
const presence = signal({ agents: [], customer_online: true });
const agentTyping = signal(false);
const access = signal("full");
const endAccess = signal(null);
const conn = signal("connecting");
const tooManyTabs = signal(false);
const seenUpTo = signal(0); // highest seq logged while an agent was in the room
const agentRead = signal(0); // how far the session's agent has read (read receipts)

let live = null;
let topic = "";
let typingTimer = 0;
let pollTimer = 0;

function passed(g) {
  return (g.authentication === "not_required" || g.authentication === "verified") &&
    (g.consent === "not_requested" || g.consent === "accepted");
}

async function load() {
  clearTimeout(pollTimer);
  const first = window.cohubFirst;
  window.cohubFirst = null;
  try {
    route(await (first ? answer(first) : api.get("/api/customer/session")));
    tellTimeZone();
  } catch (e) {
    fail(e.code, e);
  }
}

// tellTimeZone reports this device's time zone once a page load, so
// reminders come in the customer's own hours. Nothing depends on it.
let zoneTold = false;
function tellTimeZone() {
  let zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  if (zoneTold || !zone) { return; }
  zoneTold = true;
  api.post("/api/customer/time-zone", { time_zone: zone }).catch(() => {});
}

// route shows the next gate, or the room once every gate is passed.
function route(v) {
  view.value = v;
  const g = v.gates;
  if (g.authentication === "pending" || g.authentication === "locked") {
    screen.value = "auth";
  } else if (g.consent === "pending") {
    screen.value = "consent";
  } else if (g.consent === "declined") {
    screen.value = "declined";
  } else if (passed(g)) {
    enterRoom(v);
  }
}

function fail(code) {
  stopLive();
  switch (code) {
  case "unauthenticated": screen.value = "invalid"; break;
  case "link_expired": screen.value = "expired"; break;
  case "link_revoked": screen.value = "replaced"; break;
  case "session_ended":
    screen.value = "ended";
    // A renewed session brings the link back: look again now and then.
    pollTimer = setTimeout(load, 10000);
    break;
  default:
    screen.value = "unavailable";
    pollTimer = setTimeout(load, 10000);
  }
}

function stopLive() {
  if (live) { live.stop(); }
  live = null;
}

function enterRoom(v) {
  topic = "room:" + v.session.id;
  tasks.value = v.session.tasks || [];
  access.value = v.access || "full";
  endAccess.value = v.session.end_access || null;
  screen.value = "room";
  if (live) { return; }
  items.value = [];
  let refused = 0;
  live = new Live(() => api.post("/api/ws/ticket").then((r) => r.ticket), {
    state(name, info) {
      conn.value = name;
      tooManyTabs.value = name === "down" && info.code === 4009;
      if (name === "open") { refused = 0; }
    },
    joined(t, d) {
      if (d.session) { tasks.value = d.session.tasks || []; endAccess.value = d.session.end_access || null; }
      if (d.access) { access.value = d.access; }
      if (d.agent) { view.value = { ...view.value, agent: d.agent }; }
      if (d.read) { agentRead.value = Math.max(agentRead.value, d.read.agent || 0); }
    },
    reset() { items.value = []; },
    frame: onFrame,
    // 4010 (ended with nothing kept), 4001 (link revoked or expired),
    // 4003: the API says which page to show.
    final() { live = null; load(); },
    async failedOpen() {
      // An upgrade refused before it opened: the link may have gone, or
      // this browser must pass the gates again (its customer token is
      // missing or old, even when the session's gates were passed
      // elsewhere). Never "reconnecting" for ever.
      refused++;
      try {
        const v = await api.get("/api/customer/session");
        const g = v.gates;
        const gated = g.authentication !== "not_required" || g.consent !== "not_requested";
        if (!passed(g)) {
          stopLive();
          route(v);
        } else if (gated && refused >= 2) {
          stopLive();
          view.value = v;
          screen.value = g.authentication !== "not_required" ? "auth" : "consent";
        }
      } catch (e) {
        if (e.status === 401 || e.status === 410) { fail(e.code); }
      }
    },
  });
  live.join(topic);
}

function onFrame(f) {
  if (f.op === "presence") {
    presence.value = f.data;
    if (f.data.agents.length) { seenUpTo.value = lastSeq(); }
    return;
  }
  if (f.op === "read") {
    if (f.data && f.data.by === "agent" && f.data.seq > agentRead.value) { agentRead.value = f.data.seq; }
    return;
  }
  if (f.op === "typing") {
    agentTyping.value = true;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { agentTyping.value = false; }, 3500);
    return;
  }
  if (f.op !== "event") { return; }
  const e = f.data;
  switch (e.type) {
  case "message":
    items.value = [...items.value, { seq: f.seq, at: e.at, mine: e.from && e.from.role === "customer", name: e.from && e.from.name, text: e.text }];
    if (e.from && e.from.role === "agent") { agentTyping.value = false; }
    if (presence.value.agents.length) { seenUpTo.value = f.seq; }
    break;
  case "task.assigned":
  case "task.updated":
  case "task.completed":
    tasks.value = tasks.value.some((t) => t.id === e.task.id)
      ? tasks.value.map((t) => (t.id === e.task.id ? e.task : t))
      : [...tasks.value, e.task];
    break;
  case "task.withdrawn":
    tasks.value = tasks.value.filter((t) => t.id !== e.task_id);
    break;
  case "session.ended":
    endAccess.value = e.access || null;
    if (e.access && e.access.mode === "limited_for") { access.value = "limited"; }
    if (e.access && e.access.mode === "none") { access.value = ""; }
    items.value = [...items.value, { seq: f.seq, at: e.at, note: true, text: t("chat.note_ended") }];
    break;
  case "session.renewed":
    items.value = [...items.value, { seq: f.seq, at: e.at, note: true, text: t("chat.note_renewed") }];
    access.value = "full";
    endAccess.value = null;
    api.get("/api/customer/session").then((v) => { view.value = v; tasks.value = v.session.tasks || []; }).catch(() => {});
    break;
  }
}

function lastSeq() {
  const it = items.value;
  return it.length ? it[it.length - 1].seq : 0;
}

// Pieces ----------------------------------------------------------------

function Top() {
  const v = view.value;
  return html`<header class="c-top">
    <span class="brand" aria-label="Cohub">co<span>hub</span></span>
    ${v && v.team && html`<span class="c-team">${v.team}</span>`}
    <${LanguagePicker} onSwitch=${() => { if (screen.value === "consent") { load(); } }} />
  </header>`;
}

function Page({ title, children, tone, testid }) {
  return html`<main class="c-main">
    <section class=${cx("c-page", tone && "c-page-" + tone)} data-testid=${testid} aria-labelledby="page-h">
      <h1 id="page-h">${title}</h1>
      ${children}
    </section>
  </main>`;
}

function agentName() {
  const v = view.value;
  return (v && v.agent) || t("agent.yours_mid");
}

function Intro() {
  const v = view.value;
  if (!v) { return null; }
  const name = v.session.customer.name;
  return html`<div class="c-intro">
    <p class="c-hello">${name ? t("intro.hello_name", { name: name.split(" ")[0] }) : t("intro.hello")}</p>
    <p>${v.agent ? html`<strong>${v.agent}</strong>` : t("agent.yours")} ${v.team ? t("intro.invited_from", { team: v.team }) : t("intro.invited")}</p>
  </div>`;
}

// Gates -----------------------------------------------------------------

function triesLeft(message) {
  const m = /(\d+)/.exec(message || "");
  return m ? Number(m[1]) : null;
}

function AuthGate() {
  const v = view.value;
  const method = v.gates.method === "pin" ? "pin" : "otp";
  const [answer, setAnswer] = useState("");
  const [error, setError] = useState("");
  const [sent, setSent] = useState(null);
  const [cooldown, setCooldown] = useState(0);
  const [busy, setBusy] = useState(false);
  const input = useRef(null);
  useEffect(() => {
    if (cooldown <= 0) { return undefined; }
    const t = setTimeout(() => setCooldown(cooldown - 1), 1000);
    return () => clearTimeout(t);
  }, [cooldown]);
  // The server says how long a lockout lasts: a time, or until the agent
  // lets the customer try again (lockouts grow: 15 minutes, an hour, then
  // the agent).
  const locked = v.gates.authentication === "locked";
  const until = locked && v.gates.locked_until ? clock(v.gates.locked_until) : "";

  const sendCode = async () => {
    setError("");
    try {
      const r = await api.post("/api/customer/otp");
      setSent(r);
      setCooldown(30);
      announce(t("gate.code_sent_to", { to: r.to }));
      requestAnimationFrame(() => input.current && input.current.focus());
    } catch (e) {
      if (e.code === "rate_limited") {
        setCooldown(30);
        setError(locked ? "" : t("gate.code_recent"));
      } else {
        setError(plainError(e));
      }
    }
  };
  const submit = async (e) => {
    e.preventDefault();
    const a = answer.replace(/\s+/g, "");
    if (!/^\d+$/.test(a)) {
      setError(t(method === "pin" ? "gate.pin_digits" : "gate.code_digits"));
      return;
    }
    setBusy(true);
    setError("");
    try {
      route(await api.post("/api/customer/verify", method === "pin" ? { pin: a } : { code: a }));
    } catch (err) {
      setAnswer("");
      if (err.code === "rate_limited") {
        await load(); // the view says how long the lockout lasts
      } else if (err.code === "unauthenticated") {
        const n = triesLeft(err.message);
        setError(t(method === "pin" ? "gate.pin_wrong" : "gate.code_wrong") + (n !== null ? " " + tn("gate.tries_left", n) : ""));
      } else if (err.code === "validation_failed") {
        setError(t(method === "pin" ? "gate.pin_enter" : "gate.code_enter"));
      } else {
        fail(err.code);
      }
      setBusy(false);
      requestAnimationFrame(() => input.current && input.current.focus());
    }
  };
  return html`<main class="c-main">
    <section class="c-page" aria-labelledby="page-h" data-testid="gate-auth">
      <${Intro} />
      <h1 id="page-h">${t("gate.auth_title")}</h1>
      ${locked
        ? html`<div class="notice notice-bad" role="alert" data-testid="gate-locked">
            ${until
              ? html`<p><strong>${t("gate.locked")}</strong> ${t("gate.locked_until", { time: until })}</p>
                  <p>${t("gate.locked_then", { agent: agentName() })}</p>`
              : html`<p><strong>${t("gate.locked")}</strong> ${t("gate.locked_agent", { agent: agentName() })}</p>
                  <p>${t("gate.locked_contact", { agent: agentName() })}</p>`}
            <button type="button" class="btn" data-testid="gate-retry" onClick=${() => load()}>${t("action.try_again")}</button>
          </div>`
        : html`
          ${method === "pin"
            ? html`<p class="lead">${t("gate.pin_lead", { agent: agentName() })}</p>`
            : html`<p class="lead">${sent
              ? html`${t(sent.channel === "sms" ? "gate.code_sent_sms" : "gate.code_sent_email")} <strong dir="ltr">${sent.to}</strong>. ${t("gate.code_lasts")}`
              : t("gate.code_lead", { agent: agentName() })}</p>`}
          ${method === "otp" && !sent && html`<button type="button" class="btn btn-primary btn-block" data-testid="otp-send" onClick=${sendCode}>${t("gate.send_code")}</button>`}
          ${(method === "pin" || sent) && html`<form onSubmit=${submit} novalidate class="gate-form">
            <label for="gate-answer">${t(method === "pin" ? "gate.pin" : "gate.code")}</label>
            <input id="gate-answer" ref=${input} class="code-input" inputmode="numeric" pattern="[0-9]*"
              autocomplete=${method === "otp" ? "one-time-code" : "off"} maxlength=${method === "otp" ? 6 : 12}
              data-testid=${method === "pin" ? "pin-input" : "otp-input"} value=${answer} autofocus
              aria-invalid=${error ? "true" : undefined} aria-describedby=${error ? "gate-err" : undefined}
              onInput=${(e) => setAnswer(e.currentTarget.value)} />
            ${error && html`<p class="field-error" id="gate-err" role="alert">${error}</p>`}
            <button type="submit" class="btn btn-primary btn-block" data-testid="gate-submit" disabled=${busy}>${t("action.continue")}</button>
          </form>`}
          ${method === "otp" && sent && html`<p class="resend">
            ${cooldown > 0
              ? html`<span data-testid="otp-cooldown">${t("gate.resend_in", { n: cooldown })}</span>`
              : html`<button type="button" class="link-btn" data-testid="otp-resend" onClick=${sendCode}>${t("gate.resend")}</button>`}
          </p>`}
          ${method === "otp" && !sent && error && html`<p class="field-error" role="alert">${error}</p>`}`}
    </section>
  </main>`;
}

function ConsentGate() {
  const v = view.value;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const answer = async (accept) => {
    setBusy(true);
    setError("");
    try {
      route(await api.post("/api/customer/consent", { accept }));
    } catch (e) {
      if (e.code === "forbidden") { load(); } else { setError(plainError(e)); }
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="c-main">
    <section class="c-page" aria-labelledby="page-h" data-testid="gate-consent">
      <${Intro} />
      <h1 id="page-h">${t("consent.title")}</h1>
      <p class="lead">${t("consent.lead")}</p>
      <blockquote class="consent-text" data-testid="consent-shown">${v.session.consent && v.session.consent.text}</blockquote>
      ${error && html`<p class="notice notice-bad" role="alert">${error}</p>`}
      <div class="stack">
        <button type="button" class="btn btn-primary btn-block" data-testid="consent-agree" disabled=${busy} onClick=${() => answer(true)}>${t("consent.agree")}</button>
        <button type="button" class="btn btn-block" data-testid="consent-disagree" disabled=${busy} onClick=${() => answer(false)}>${t("consent.disagree")}</button>
      </div>
    </section>
  </main>`;
}

function Declined() {
  return html`<${Page} title=${t("declined.title")} testid="declined">
    <p class="lead">${t("declined.lead", { agent: agentName() })}</p>
    <p>${t("declined.change")}</p>
    <button type="button" class="btn btn-primary btn-block" data-testid="consent-review" onClick=${() => { screen.value = "consent"; }}>${t("declined.review")}</button>
  <//>`;
}

// Pages for links that no longer open the room ------------------------------

function Expired() {
  const [state, setState] = useState({ busy: false, text: "", ok: false });
  const ask = async () => {
    setState({ busy: true, text: "", ok: false });
    try {
      const r = await api.post("/api/customer/new-link");
      setState({ busy: false, ok: true, text: tIsolated(r.channel === "sms" ? "expired.sent_sms" : "expired.sent_email", { to: r.to }) });
    } catch (e) {
      setState({ busy: false, ok: false, text: t({ rate_limited: "expired.recent", invalid_state: "expired.external",
        session_ended: "expired.ended" }[e.code] || "expired.failed") });
    }
  };
  return html`<${Page} title=${t("expired.title")} testid="expired">
    <p class="lead">${t("expired.lead")}</p>
    ${!state.ok && html`<button type="button" class="btn btn-primary btn-block" data-testid="new-link" disabled=${state.busy} onClick=${ask}>${t("expired.new_link")}</button>`}
    ${state.text && html`<p class=${cx("notice", state.ok ? "notice-ok" : "notice-bad")} role="status" data-testid="new-link-result">${state.text}</p>`}
  <//>`;
}

function Ended() {
  return html`<${Page} title=${t("ended.title")} testid="ended">
    <p class="lead">${t("ended.lead")}</p>
    <p>${t("ended.reopen")}</p>
  <//>`;
}

// The room -----------------------------------------------------------------

const TASK_HINTS = { sign: "task.hint.sign", form: "task.hint.form", consent: "task.hint.consent", upload: "task.hint.upload", custom: "task.hint.custom" };

// TaskCard is one task: its work (sign, form, upload, consent) while
// pending, what it kept once done; a custom task is marked done live.
function TaskCard({ t: task, readOnly }) {
  const v = view.value;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const done = task.status === "completed";
  const finished = (next) => { tasks.value = tasks.value.map((x) => (x.id === task.id ? next : x)); };
  const markDone = async () => {
    setBusy(true);
    setError("");
    const r = await live.completeTask(topic, task.id, { done: true }).done;
    setBusy(false);
    if (r.status === "ok" || (r.data && r.data.code === "invalid_state")) {
      finished((r.data && r.data.task) || { ...task, status: "completed", completed_at: new Date().toISOString() });
      announce(t("task.done_named", { title: task.title }));
    } else {
      setError(plainError(r.data));
    }
  };
  return html`<li class=${cx("c-task", done && "c-task-done")} data-testid="customer-task" data-status=${task.status} data-kind=${task.kind}>
    <div class="c-task-head">
      <span class="c-task-icon" aria-hidden="true"><${Icon} name=${done ? "check" : "pencil"} /></span>
      <h2 class="c-task-title">${task.title}</h2>
    </div>
    ${!done && !readOnly && html`<p class="c-task-hint">${t(TASK_HINTS[task.kind] || TASK_HINTS.custom)}</p>`}
    ${done
      ? html`<p class="c-task-meta">${t("task.done_at", { time: clock(task.completed_at) })}</p>
          <${TaskOutcome} t=${task} link=${token} sid=${v.session.id} />`
      : readOnly
        ? html`<p class="c-task-meta">${t("task.not_done")}</p>`
        : task.kind === "custom" || !TASK_HINTS[task.kind]
          ? html`<button type="button" class="btn btn-primary btn-block" data-testid="task-complete" disabled=${busy || conn.value !== "open"}
              onClick=${markDone}>${t(busy ? "task.saving" : "task.mark_done")}</button>`
          : html`<${TaskWork} t=${task} link=${token} sid=${v.session.id} name=${v.session.customer.name || ""} max=${v.max_upload} onDone=${finished} />`}
    ${error && html`<p class="field-error" role="alert">${error}</p>`}
  </li>`;
}

function Room() {
  const v = view.value;
  const list = tasks.value;
  const done = list.filter((t) => t.status === "completed").length;
  const readOnly = access.value !== "full";
  const ended = !!endAccess.value;
  // The agent is here only as far as this page knows: not once the
  // session has ended, nor while the connection is lost.
  const here = presence.value.agents.length > 0 && !ended && conn.value === "open";
  const name = v.session.customer.name;
  const agent = v.agent || t("agent.yours");
  const left = list.length - done;
  return html`<main class="c-main c-room">
    ${conn.value === "down" && (tooManyTabs.value
      ? html`<div class="c-offline" role="status" data-testid="too-many-tabs"><${Icon} name="wifiOff" /> ${t("room.too_many_tabs")}</div>`
      : html`<div class="c-offline" role="status" data-testid="reconnecting"><${Icon} name="wifiOff" /> ${t("room.reconnecting")}</div>`)}
    <h1 class="c-welcome">${name ? t("room.welcome_name", { name: name.split(" ")[0] }) : t("room.welcome")}</h1>
    <p class="c-sub">${list.length === 0
      ? t("room.guide", { agent })
      : left === 0 ? t("room.all_asked", { agent: agent.split(" ")[0] }) : tn("room.steps", list.length, { agent: agent.split(" ")[0] })}</p>
    <div class="c-agent">
      <span class="avatar avatar-lg" aria-hidden="true">${initials(agent)}</span>
      <span class="c-agent-text"><strong>${agent}</strong><span class="muted">${v.team ? t("room.agent_of", { team: v.team }) : t("agent.yours")}</span></span>
      <span class=${cx("c-here", here && "c-here-yes")} data-testid="agent-here">${t(here ? "room.here" : "room.not_here")}</span>
    </div>
    ${ended && html`<div class=${cx("notice", readOnly ? "notice-info" : "notice-ok")} data-testid="ended-notice">
      ${readOnly
        ? html`<strong>${t("room.ended")}</strong> ${endAccess.value.duration && endAccess.value.duration !== "0s"
          ? t("room.read_for", { duration: durationWords(endAccess.value.duration) }) : t("room.read_only")}`
        : html`<strong>${t("room.ended_by_agent")}</strong> ${t("room.still_use")}`}
    </div>`}
    ${list.length > 0 && html`<div class="c-progress">
      <div class="c-progress-text"><span>${t("room.your_tasks")}</span><span data-testid="customer-progress">${t("room.progress", { done, total: list.length })}</span></div>
      <div class="bar" role="progressbar" aria-label=${t("room.tasks_done")} aria-valuemin="0" aria-valuemax=${list.length} aria-valuenow=${done}>
        <span class="bar-fill" style=${{ width: Math.round((done / list.length) * 100) + "%" }}></span></div>
    </div>`}
    ${list.length > 0 && left === 0 && html`<div class="c-done" data-testid="all-done">
      <span class="c-done-icon" aria-hidden="true"><${Icon} name="check" /></span>
      <div><p class="c-done-title">${t("room.all_done")}</p><p>${t("room.has_all", { agent: agent.split(" ")[0] })}${readOnly ? "" : " " + t("room.still_write")}</p>
        <${Certificate} sid=${v.session.id} done=${done} /></div>
    </div>`}
    <ul class="c-tasks" data-testid="customer-tasks">
      ${list.filter((t) => t.status !== "completed").map((t) => html`<${TaskCard} key=${t.id} t=${t} readOnly=${readOnly} />`)}
      ${list.filter((t) => t.status === "completed").map((t) => html`<${TaskCard} key=${t.id} t=${t} readOnly=${readOnly} />`)}
    </ul>
    ${list.length === 0 && html`<p class="muted c-empty">${t("room.empty", { agent: agent.split(" ")[0] })}</p>`}
    <${ChatSheet} agent=${agent} readOnly=${readOnly} />
  </main>`;
}

// Certificate offers the session's completion certificate once there is
// one: a sealed record of what was done, with each file's fingerprint.
function Certificate({ sid, done }) {
  const [asset, setAsset] = useState(null);
  useEffect(() => {
    // The certificate is made as the last task completes, and may land a
    // moment after the page hears of it: look again a few times.
    let stop = false;
    let timer = 0;
    const look = (tries) => {
      api.get("/api/customer/assets").then((r) => {
        const certs = (r.assets || []).filter((a) => a.kind === "certificate" && !a.deleted_at);
        if (stop) { return; }
        setAsset(certs.length ? certs[certs.length - 1] : null);
        if (!certs.length && tries > 0) { timer = setTimeout(() => look(tries - 1), 1000 * (7 - tries)); }
      }).catch(() => {});
    };
    look(6);
    return () => { stop = true; clearTimeout(timer); };
  }, [done]);
  if (!asset) { return null; }
  return html`<p class="row-actions"><${DownloadButton} link=${token} sid=${sid} asset=${asset.id} name="completion-certificate.pdf"
    label=${t("room.certificate")} testid="download-certificate" /></p>`;
}

function ChatSheet({ agent, readOnly }) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const seenKey = "cohub.seen." + topic;
  const [seen, setSeen] = useState(() => Number(sessionStorage.getItem(seenKey)) || 0);
  const log = useRef(null);
  const list = items.value;
  const mine = sends.value;
  const seqs = new Set(list.map((i) => i.seq));
  const waiting = mine.filter((p) => !(p.seq && seqs.has(p.seq)));
  const short = agent.split(" ")[0];
  const unread = open ? 0 : list.filter((i) => !i.mine && !i.note && i.seq > seen).length;
  useEffect(() => {
    if (open) {
      setSeen(lastSeq());
      sessionStorage.setItem(seenKey, String(lastSeq()));
    }
  }, [open, list.length]);
  useLayoutEffect(() => {
    if (log.current) { log.current.scrollTop = log.current.scrollHeight; }
  }, [list.length, waiting.length, open, agentTyping.value]);
  useReadWatch(log, (seq) => live && live.read(topic, seq), [open, list.length]);
  const seenAt = lastRead(list, (it) => it.mine && !it.note, agentRead.value);
  const submit = (e) => {
    e.preventDefault();
    const t = text.trim();
    if (!t || readOnly || !live) { return; }
    const { id, done } = live.send(topic, t);
    sends.value = [...sends.value, { id, text: t, at: new Date().toISOString(), state: "sending" }];
    setText("");
    // Replying reads what came before.
    setSeen(lastSeq());
    sessionStorage.setItem(seenKey, String(lastSeq()));
    done.then((r) => {
      sends.value = sends.value.map((s) => (s.id === id ? (r.status === "ok" ? { ...s, state: "sent", seq: r.data.seq } : { ...s, state: "failed", error: plainError(r.data) }) : s));
      if (r.status === "ok") {
        setTimeout(() => { sends.value = sends.value.filter((s) => !(s.seq && new Set(items.value.map((i) => i.seq)).has(s.seq))); }, 0);
      }
    });
  };
  // The peek shows what the agent wrote last while it is unread.
  const last = [...list].reverse().find((i) => !i.note && (unread === 0 || !i.mine));
  const rows = [];
  let day = "";
  for (const it of list) {
    const k = dayKey(it.at);
    if (k !== day) {
      day = k;
      rows.push(html`<li class="day" key=${"d" + k}><span>${dayLabel(it.at)}</span></li>`);
    }
    if (it.note) {
      rows.push(html`<li class="note" key=${"e" + it.seq}><span>${it.text}</span> <time>${clock(it.at)}</time></li>`);
      continue;
    }
    rows.push(html`<li class=${cx("msg", it.mine ? "msg-out" : "msg-in")} key=${"e" + it.seq} data-seq=${it.seq}>
      <div class="bubble"><p class="msg-text">${it.text}</p>
        <p class="msg-meta">${!it.mine && `${it.name || short} · `}<time>${clock(it.at)}</time>${it.mine && (it.seq === seenAt
          ? html` · <span data-testid="msg-seen">${t("room.seen")}</span>` : " · " + t(it.seq <= seenUpTo.value ? "chat.delivered" : "chat.sent"))}</p></div>
    </li>`);
  }
  for (const p of waiting) {
    rows.push(html`<li class=${cx("msg", "msg-out", "msg-pending")} key=${"p" + p.id}>
      <div class="bubble"><p class="msg-text">${p.text}</p>
        <p class="msg-meta">${p.state === "failed"
          ? html`<span class="error-text">${t("chat.not_sent", { error: p.error })}</span>`
          : t(conn.value === "open" ? "chat.sending" : "chat.waiting")}</p></div>
    </li>`);
  }
  // While a document is open to sign, the closed sheet is a bar: the page
  // and the pad get the screen, and a tap on the bar opens the talk.
  const bar = !open && signing.value > 0;
  return html`<section class=${cx("sheet", open && "sheet-open", bar && "sheet-bar")} aria-label=${t("chat.with", { agent: short })}
    data-testid="chat-sheet">
    <button type="button" class="sheet-handle" aria-expanded=${open ? "true" : "false"} aria-controls="c-log"
      data-testid="chat-toggle" onClick=${() => setOpen(!open)}>
      <span class="sheet-grip" aria-hidden="true"></span>
      <span class="sheet-title">${t("chat.with", { agent: short })}${unread > 0 && html` <span class="count" data-testid="chat-unread" aria-label=${t("chat.new", { n: unread })}>${unread}</span>`}</span>
      <${Icon} name=${open ? "chevronDown" : "chevronDown"} cls=${open ? "" : "flip"} />
    </button>
    ${bar ? null : open
      ? html`<ol class="timeline c-log" id="c-log" ref=${log} role="log" aria-relevant="additions" data-testid="customer-chat-log" tabindex="0">
          ${rows.length === 0 && html`<li class="timeline-empty">${t("chat.write_here", { agent: short })}</li>`}
          ${rows}
        </ol>`
      : html`<p class="sheet-peek" id="c-log" data-testid="customer-chat-peek">${last
          ? html`<strong>${last.mine ? t("chat.you") : last.name || short}:</strong> ${last.text}`
          : html`<span class="muted">${t("chat.write_here", { agent: short })}</span>`}</p>`}
    <p class="typing" aria-live="polite">${agentTyping.value ? t("chat.typing", { agent: short }) : ""}</p>
    ${bar ? null : readOnly
      ? html`<p class="muted small sheet-ro">${t("chat.read_only")}</p>`
      : html`<form class="composer" onSubmit=${submit}>
          <label for="c-input" class="sr-only">${t("chat.message_to", { agent: short })}</label>
          <input id="c-input" data-testid="customer-chat-input" placeholder=${t("chat.placeholder", { agent: short })} value=${text} maxlength="4000"
            autocomplete="off" enterkeyhint="send" onInput=${(e) => { setText(e.currentTarget.value); if (live) { live.typing(topic); } }} />
          <button type="submit" class="btn btn-primary" data-testid="customer-chat-send" disabled=${!text.trim()}>${t("action.send")}</button>
        </form>`}
  </section>`;
}

function App() {
  let body;
  switch (screen.value) {
  case "loading": body = html`<main class="c-main"><p class="muted">${t("page.opening")}</p></main>`; break;
  case "auth": body = html`<${AuthGate} />`; break;
  case "consent": body = html`<${ConsentGate} />`; break;
  case "declined": body = html`<${Declined} />`; break;
  case "room": body = html`<${Room} />`; break;
  case "expired": body = html`<${Expired} />`; break;
  case "ended": body = html`<${Ended} />`; break;
  case "replaced": body = html`<${Page} title=${t("replaced.title")} testid="replaced">
      <p class="lead">${t("replaced.lead")}</p><//>`; break;
  case "invalid": body = html`<${Page} title=${t("invalid.title")} testid="invalid">
      <p class="lead">${t("invalid.lead")}</p><//>`; break;
  default: body = html`<${Page} title=${t("unavailable.title")} testid="unavailable">
      <p class="lead">${t("unavailable.lead")}</p>
      <button type="button" class="btn btn-primary btn-block" onClick=${load}>${t("action.try_now")}</button><//>`;
  }
  return html`<${Top} />${body}<${Notice} />`;
}

render(html`<${App} />`, document.getElementById("app"));
load();
