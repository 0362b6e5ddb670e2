// The console's state: who is signed in, the route, one cache of sessions
// that every view reads (so a history row and an open room never
// disagree), the history panel's query, and the live connection with the
// rooms it follows.
import { signal, batch } from "../ui.js";
import { agentApi } from "../api.js";
import { Live } from "../live.js";
import { plainError, endAccessWords, firstName, customerName } from "../words.js";
import { followupNote } from "./followups.js";
import { w } from "./catalog.js";

// Who ----------------------------------------------------------------

export const me = signal(null);
// auth: "checking" | "signed-out" | "expired" | "in"
export const auth = signal("checking");
// conn: the live connection's state, for the offline banner.
export const conn = signal({ state: "connecting" });
// lost: a final close the console cannot recover from by itself.
export const lost = signal(null);

export function scopesFor(a) {
  if (!a) { return []; }
  const rank = { mine: 0, team: 1, all: 2 };
  const cap = a.role === "admin" ? 2 : rank[a.history_search_space] ?? 0;
  return ["mine", "team", "all"].filter((s) => rank[s] <= cap && (s !== "team" || a.team_id));
}

// scopeKey keeps an agent's history scope in this browser.
export const scopeKey = (a) => "cohub.scope." + a.id;

// defaultScope is the agent's last choice in this browser, else what
// their role looks at first.
export function defaultScope(a) {
  const scopes = scopesFor(a);
  const kept = localStorage.getItem(scopeKey(a));
  if (scopes.includes(kept)) { return kept; }
  const want = a.role === "supervisor" ? "team" : a.role === "admin" ? "all" : "mine";
  return scopes.includes(want) ? want : scopes[0] || "mine";
}

export function teamName(id) {
  const a = me.value;
  const t = a && (a.settings_teams || []).find((x) => x.id === id);
  return t ? t.name : "";
}

// Route (the hash, so reloads and the back button work) -----------------

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "s" && parts[1]) { return { name: "room", id: parts[1] }; }
  if (parts[0] === "admin") { return { name: "admin", page: parts[1] || "settings", id: parts[2] || "" }; }
  return { name: "home" };
}

export const route = signal(parseHash());
addEventListener("hashchange", () => { route.value = parseHash(); });

export function go(hash) {
  if (location.hash !== hash) { location.hash = hash; } else { route.value = parseHash(); }
}

// Sessions ---------------------------------------------------------------

export const cache = signal(new Map());

// putSession records the newest known state of a session. An older copy
// (a history page read before a live change) only brings its indicator,
// which is always read fresh.
export function putSession(s) {
  if (!s || !s.id) { return; }
  const m = new Map(cache.value);
  const cur = m.get(s.id);
  if (cur && cur.updated_at && s.updated_at && new Date(s.updated_at) < new Date(cur.updated_at)) {
    m.set(s.id, { ...cur, indicator: s.indicator || cur.indicator });
  } else {
    m.set(s.id, cur ? { ...cur, ...s } : s);
  }
  cache.value = m;
}

// putRow keeps a history row: its unread count is the page's word (a
// row without one has none; other reads of a session do not carry it).
function putRow(s) { putSession({ ...s, unread: s.unread || 0 }); }

export function patchSession(id, fn) {
  const cur = cache.value.get(id);
  if (!cur) { return; }
  const m = new Map(cache.value);
  m.set(id, fn(cur));
  cache.value = m;
}

export function tasksDone(s) {
  const tasks = (s && s.tasks) || [];
  return tasks.length > 0 && tasks.every((t) => t.status === "completed");
}

// History -------------------------------------------------------------------

// narrow says the screen is below 768 px, where the history is a drawer
// over the room rather than a column beside it.
export function narrow() { return window.matchMedia("(max-width: 767px)").matches; }

// A room opened on a narrow screen shows the room, not the drawer over it.
const openRoomAtStart = location.hash.startsWith("#/s/") && narrow();

export const hist = {
  scope: signal("mine"),
  filter: signal("all"),
  q: signal(""),
  ids: signal([]),
  updated: signal([]),
  loading: signal(false),
  done: signal(false),
  error: signal(""),
  open: signal(localStorage.getItem("cohub.history") !== "closed" && !openRoomAtStart),
  cursor: "",
  gen: 0,
};

function historyURL(cursor, limit, extra) {
  const p = new URLSearchParams({ scope: hist.scope.value, status: hist.filter.value, limit: String(limit) });
  if (hist.q.value.trim()) { p.set("q", hist.q.value.trim()); }
  if (cursor) { p.set("cursor", cursor); }
  for (const [k, v] of Object.entries(extra || {})) { p.set(k, v); }
  return "/api/sessions?" + p.toString();
}

// reloadHistory reads the first page for the panel's scope, filter and search.
export async function reloadHistory() {
  const gen = ++hist.gen;
  hist.loading.value = true;
  hist.error.value = "";
  try {
    const r = await agentApi.get(historyURL("", 30));
    if (gen !== hist.gen) { return; }
    batch(() => {
      r.sessions.forEach(putRow);
      hist.ids.value = r.sessions.map((s) => s.id);
      hist.cursor = r.next_cursor;
      hist.done.value = !r.next_cursor;
    });
  } catch (e) {
    if (gen === hist.gen) { hist.error.value = plainError(e); }
  } finally {
    if (gen === hist.gen) { hist.loading.value = false; }
  }
}

// loadMore reads the next page (infinite scroll).
export async function loadMore() {
  if (hist.loading.value || hist.done.value || !hist.cursor) { return; }
  const gen = hist.gen;
  hist.loading.value = true;
  try {
    const r = await agentApi.get(historyURL(hist.cursor, 30));
    if (gen !== hist.gen) { return; }
    batch(() => {
      r.sessions.forEach(putRow);
      const have = new Set(hist.ids.value);
      hist.ids.value = hist.ids.value.concat(r.sessions.map((s) => s.id).filter((id) => !have.has(id)));
      hist.cursor = r.next_cursor;
      hist.done.value = !r.next_cursor;
    });
  } catch (e) {
    if (gen === hist.gen) { hist.error.value = plainError(e); }
  } finally {
    if (gen === hist.gen) { hist.loading.value = false; }
  }
}

// refreshHistory re-reads what the panel shows, quietly: presence and
// changes made elsewhere (another agent's end, a customer who left while
// no room was open) reach the rows within one period.
export async function refreshHistory() {
  if (hist.loading.value || auth.value !== "in") { return; }
  const gen = hist.gen;
  const shown = hist.ids.value.length;
  try {
    const r = await agentApi.get(historyURL("", Math.min(200, Math.max(30, shown))));
    if (gen !== hist.gen) { return; }
    batch(() => {
      r.sessions.forEach(putRow);
      const fresh = r.sessions.map((s) => s.id);
      const seen = new Set(fresh);
      if (r.next_cursor && shown > fresh.length) {
        hist.ids.value = fresh.concat(hist.ids.value.filter((id) => !seen.has(id)));
      } else {
        hist.ids.value = fresh;
        hist.cursor = r.next_cursor;
        hist.done.value = !r.next_cursor;
      }
    });
    await loadUpdated();
  } catch (e) { /* the next period tries again */ }
}

// loadUpdated reads the agent's updated sessions (a customer did
// something since the agent last opened them).
export async function loadUpdated() {
  try {
    const p = new URLSearchParams({ scope: "mine", updated: "true", limit: "50" });
    const r = await agentApi.get("/api/sessions?" + p.toString());
    batch(() => {
      r.sessions.forEach(putRow);
      hist.updated.value = r.sessions.map((s) => s.id);
    });
  } catch (e) { /* shown as before */ }
}

// matches says whether a session belongs in the panel's current list.
export function matches(s) {
  const a = me.value;
  if (!a || !s) { return false; }
  const scope = hist.scope.value;
  if (scope === "mine" && s.agent_id !== a.id) { return false; }
  if (scope === "team" && s.agent_id !== a.id && s.team_id !== a.team_id) { return false; }
  const done = tasksDone(s);
  if (hist.filter.value === "completed" && !done) { return false; }
  if (hist.filter.value === "incomplete" && done) { return false; }
  const q = hist.q.value.trim().toLowerCase();
  if (!q) { return true; }
  const c = s.customer || {};
  const digits = q.replace(/[\s+\-().]/g, "");
  return (c.name || "").toLowerCase().includes(q) || (c.email || "").toLowerCase().includes(q) ||
    (c.phone || "").includes(q) || (/^\d{3,}$/.test(digits) && (c.phone || "").replace(/\D/g, "").includes(digits));
}

// noteActivity moves a session to the top of the list (newest activity
// first), or takes it out when it no longer matches the filter.
export function noteActivity(id) {
  const s = cache.value.get(id);
  const rest = hist.ids.value.filter((x) => x !== id);
  hist.ids.value = matches(s) ? [id, ...rest] : rest;
}

export function markSeen(id) {
  if (hist.updated.value.includes(id)) {
    hist.updated.value = hist.updated.value.filter((x) => x !== id);
  }
  patchSession(id, (s) => (s.updated ? { ...s, updated: false } : s));
}

// Live ----------------------------------------------------------------------

export let live = null;
// rooms keeps the model of every room opened in this page: a room opened
// again resumes from what it holds.
const rooms = new Map(); // topic -> RoomModel
export let openRoom = null;

export function startLive() {
  if (live) { return; }
  // A fresh ticket for each connection; a 401 here signs the console out
  // as any other call's would.
  live = new Live(() => agentApi.post("/api/ws/ticket").then((r) => r.ticket), {
    frame(f) {
      if (f.topic === "inbox") {
        if (f.op === "event" && f.data && f.data.type === "session.updated") { onInbox(f.data.session); }
        return;
      }
      const m = rooms.get(f.topic);
      if (m) { m.onFrame(f); }
    },
    joined(topic, d) {
      const m = rooms.get(topic);
      if (m) { m.onJoined(d); }
      if (topic === "inbox") { refreshHistory(); }
    },
    joinFailed(topic, r) {
      const m = rooms.get(topic);
      if (m) { m.onJoinFailed(r); }
    },
    reset(topic) {
      const m = rooms.get(topic);
      if (m) { m.onReset(); }
    },
    state(name, info) { conn.value = { state: name, ...info }; },
    final(reason) {
      if (reason === "credential") {
        auth.value = "expired";
      } else {
        lost.value = reason;
      }
    },
    failedOpen() {
      // A refused upgrade may be an ended login: ask the API, which says.
      agentApi.get("/api/me").catch(() => {});
    },
  });
  live.join("inbox");
}

export function stopLive() {
  if (live) { live.stop(); }
  live = null;
  rooms.clear();
  openRoom = null;
}

function onInbox(s) {
  if (!s) { return; }
  putSession(s);
  const a = me.value;
  const m = rooms.get("room:" + s.id);
  if (s.updated && a && s.agent_id === a.id) {
    if (m && m === openRoom) {
      // The agent is looking at it: say so, which clears "updated" (a
      // GET changes nothing).
      agentApi.post("/api/sessions/" + s.id + "/seen").then((fresh) => { putSession(fresh); markSeen(s.id); }).catch(() => {});
    } else if (!hist.updated.value.includes(s.id)) {
      hist.updated.value = [s.id, ...hist.updated.value];
    }
  }
  noteActivity(s.id);
}

// room returns the model of a session's room, following it live.
export function room(id) {
  const topic = "room:" + id;
  let m = rooms.get(topic);
  if (!m) {
    m = new RoomModel(id);
    rooms.set(topic, m);
  }
  if (!m.following) { m.start(); }
  openRoom = m;
  return m;
}

// leaveRoomsBut stops following every room except the one shown (a send
// still on its way finishes first).
export function leaveRoomsBut(id) {
  for (const [topic, m] of rooms) {
    if (m.id !== id && m.following) {
      m.following = false;
      if (live) { live.leave(topic); }
    }
  }
  if (!id) { openRoom = null; }
}

// The room ------------------------------------------------------------------

const TYPING_SHOWN = 3500;

// RoomModel is one open room: the session, the settings it runs under, its
// timeline (messages and what happened), presence, typing, and sends still
// on their way.
export class RoomModel {
  constructor(id) {
    this.id = id;
    this.topic = "room:" + id;
    this.session = signal(cache.value.get(id) || null);
    this.settings = signal(null);
    this.items = signal([]);
    this.sends = signal([]);
    this.presence = signal({ agents: [], customer_online: false });
    this.typing = signal(false);
    this.customerRead = signal(0); // the customer's read horizon: "Seen"
    this.state = signal("joining"); // joining | ready | failed
    this.error = signal("");
    this.link = signal(null);
    this.outcome = signal(null); // what the last invitation did
    this.titles = new Map();
    this.buffer = [];
    this.flushTimer = 0;
    this.lastSeq = 0; // the newest event held
    this.epoch = "";
    this.following = false;
  }

  start() {
    this.following = true;
    live.join(this.topic, true, { seq: this.lastSeq, epoch: this.epoch });
    this.loadSettings();
  }

  async loadSettings() {
    try {
      this.settings.value = await agentApi.get(`/api/sessions/${this.id}/settings`);
    } catch (e) {
      this.settings.value = { task_templates: [], end_session_access: null, failed: true };
    }
  }

  setSession(s) {
    if (!s) { return; }
    for (const t of s.tasks || []) { this.titles.set(t.id, t.title); }
    this.session.value = s;
    putSession(s);
  }

  onJoined(d) {
    if (d.epoch) { this.epoch = d.epoch; }
    this.state.value = "ready";
    this.error.value = "";
    if (d.read) { this.customerRead.value = Math.max(this.customerRead.value, d.read.customer || 0); }
    if (d.session) {
      this.setSession(d.session);
      if (me.value && d.session.agent_id === me.value.id) { markSeen(this.id); }
    }
  }

  onJoinFailed(r) {
    this.state.value = "failed";
    this.error.value = r.data && r.data.code === "not_found"
      ? w("state.this_session_does_not")
      : plainError(r.data);
  }

  onReset() {
    this.items.value = [];
    this.buffer = [];
    this.lastSeq = 0;
  }

  onFrame(f) {
    switch (f.op) {
    case "event": this.onEvent(f.seq, f.data); break;
    case "status": this.patch((s) => ({ ...s, indicator: f.data })); break;
    case "presence": this.presence.value = f.data; break;
    case "read": this.onRead(f.data || {}); break;
    case "typing":
      if (f.data && f.data.role === "customer") {
        this.typing.value = true;
        clearTimeout(this.typingTimer);
        this.typingTimer = setTimeout(() => { this.typing.value = false; }, TYPING_SHOWN);
      }
      break;
    }
  }

  // onRead follows read receipts: the customer's horizon shows "Seen";
  // this agent's own (from any of their tabs) counts the history row's
  // unread customer messages again.
  onRead(d) {
    if (d.by === "customer" && d.seq > this.customerRead.value) { this.customerRead.value = d.seq; }
    if (d.by === "agent" && me.value && d.agent_id === me.value.id) {
      const unread = this.items.value.filter((it) => it.k === "msg" && it.role === "customer" && it.seq > d.seq).length;
      patchSession(this.id, (s) => ({ ...s, unread }));
    }
  }

  patch(fn) {
    const s = this.session.value;
    if (s) { this.setSession(fn(s)); }
  }

  customer() {
    const s = this.session.value;
    return firstName(s && s.customer);
  }

  // howVerified says how a customer confirmed who they are: the event
  // says (older events did not: then the settings the session runs under).
  howVerified(e) {
    const set = this.settings.value;
    const m = e.method || (set && set.customer_authentication);
    return m === "pin" ? w("state.with_the_pin") : m === "otp" ? w("state.with_a_one_time") : "";
  }

  actor(from) {
    if (!from) { return w("state.someone"); }
    if (from.role === "system") { return w("state.cohub"); }
    if (from.role === "customer") { return this.customer(); }
    return me.value && from.id === me.value.id ? w("state.you") : from.name || w("state.an_agent");
  }

  onEvent(seq, e) {
    if (seq) {
      if (seq <= this.lastSeq) { return; } // held already
      this.lastSeq = seq;
    }
    const item = { seq, at: e.at, type: e.type };
    const cust = this.customer();
    switch (e.type) {
    case "message":
      Object.assign(item, { k: "msg", role: e.from ? e.from.role : "agent", name: this.actor(e.from), text: e.text,
        mine: !!(e.from && me.value && e.from.id === me.value.id) });
      this.typing.value = this.typing.value && item.role !== "customer";
      break;
    case "task.assigned":
      this.titles.set(e.task.id, e.task.title);
      this.patch((s) => ({ ...s, tasks: s.tasks.filter((t) => t.id !== e.task.id).concat([e.task]) }));
      Object.assign(item, { k: "note", text: w("state.assigned", { value: this.actor(e.from), title: e.task.title }) });
      break;
    case "task.completed":
      this.patch((s) => ({ ...s, tasks: s.tasks.map((t) => (t.id === e.task.id ? e.task : t)) }));
      Object.assign(item, { k: "note", tone: "ok", text: w("state.completed", { cust, title: e.task.title }) });
      break;
    case "task.updated":
      this.patch((s) => ({ ...s, tasks: s.tasks.map((t) => (t.id === e.task.id ? e.task : t)) }));
      Object.assign(item, { k: "note", text: w("state.attached_the_document_to", { value: this.actor(e.from), title: e.task.title }) });
      break;
    case "task.withdrawn":
      this.patch((s) => ({ ...s, tasks: s.tasks.filter((t) => t.id !== e.task_id) }));
      Object.assign(item, { k: "note", text: w("state.withdrew", { value: this.actor(e.from), value_b: this.titles.get(e.task_id) || w("state.a_task") }) });
      break;
    case "customer.joined":
      Object.assign(item, { k: "note", tone: "ok", text: w("state.joined_the_room", { cust }) });
      break;
    case "customer.opened":
      Object.assign(item, { k: "note", text: w("state.opened_the_link", { cust }) });
      break;
    case "customer.reengaged":
      Object.assign(item, { k: "note", text: w("state.changed_the_contact_details", { value: this.actor(e.from) }) });
      this.refetch();
      break;
    case "consent.changed":
      Object.assign(item, { k: "note", tone: e.consent === "accepted" ? "ok" : "warn",
        text: e.consent === "accepted" ? w("state.gave_consent", { cust }) : w("state.declined_consent", { cust }) });
      break;
    case "authentication.changed":
      Object.assign(item, { k: "note", tone: e.authentication === "locked" ? "warn" : "ok",
        text: e.authentication === "verified" ? w("state.confirmed_who_they_are", { cust, value: this.howVerified(e) })
          : e.authentication === "locked" ? w("state.was_locked_out_after", { cust })
            : w("state.may_try_to_confirm", { cust }) });
      break;
    case "session.ended":
      this.patch((s) => ({ ...s, state: "ended", ended_at: e.at, end_access: e.access }));
      this.outcome.value = null;
      Object.assign(item, { k: "note", tone: "warn",
        text: (e.from && e.from.role === "system"
          ? w("state.the_session_ended_by")
          : w("state.ended_the_session", { value: this.actor(e.from) })) + endAccessWords(e.access, cust) });
      break;
    case "session.renewed":
      this.patch((s) => ({ ...s, state: e.state || "active", ended_at: null, end_access: undefined }));
      Object.assign(item, { k: "note", tone: "ok", text: w("state.renewed_the_session", { value: this.actor(e.from) }) });
      break;
    default: {
      const note = followupNote(e, this.actor(e.from), cust);
      if (!note) { return; }
      Object.assign(item, { k: "note" }, note);
      this.refetch();
    }
    }
    if (e.at) { this.patch((s) => (s.updated_at && new Date(s.updated_at) >= new Date(e.at) ? s : { ...s, updated_at: e.at })); }
    this.buffer.push(item);
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = 0;
        const add = this.buffer;
        this.buffer = [];
        this.items.value = this.items.value.concat(add);
        noteActivity(this.id);
      }, 0);
    }
  }

  async refetch() {
    try { this.setSession(await agentApi.get("/api/sessions/" + this.id)); } catch (e) { /* the room keeps what it has */ }
  }

  // send queues a message; it shows at once as "Sending…" and turns into
  // the logged message when it arrives.
  send(text) {
    const { id, done } = live.send(this.topic, text);
    const entry = { id, text, at: new Date().toISOString(), state: "sending" };
    this.sends.value = [...this.sends.value, entry];
    done.then((r) => {
      if (r.status === "ok") {
        this.updateSend(id, { state: "sent", seq: r.data.seq });
      } else {
        this.updateSend(id, { state: "failed", error: plainError(r.data) });
      }
    });
  }

  updateSend(id, change) {
    this.sends.value = this.sends.value.map((s) => (s.id === id ? { ...s, ...change } : s));
  }

  dropSend(id) {
    this.sends.value = this.sends.value.filter((s) => s.id !== id);
  }

  // act runs a REST action on the session and keeps its reply.
  async act(path, body) {
    const s = await agentApi.post(`/api/sessions/${this.id}/${path}`, body);
    if (s && s.id) {
      this.setSession(s);
      noteActivity(this.id);
    }
    return s;
  }

  // invitationOutcome describes what happened to the newest invitation.
  noteInvitation(s) {
    const inv = s && s.invitations && s.invitations[s.invitations.length - 1];
    if (!inv) { return; }
    const by = inv.channel === "sms" ? w("state.text_message") : "email";
    if (inv.status === "sent") {
      this.outcome.value = { kind: "ok", text: w("state.invitation_sent_by_to", { by, to: inv.to }) };
    } else if (inv.status === "skipped") {
      this.outcome.value = { kind: "info", text: w("state.no_invitation_was_sent", { customer_name: customerName(s.customer) }) };
    } else {
      this.outcome.value = { kind: "bad", text: w("state.the_invitation_to_could", { to: inv.to, value: inv.error ? ` (${inv.error})` : "" }) };
    }
  }
}
