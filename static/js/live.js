// Cohub's live connection (docs/DESIGN.md §6), shared by the console and
// the customer page: one WebSocket, many topics, ref-matched replies.
//
// - It reconnects with exponential backoff and jitter, and resumes every
//   topic from the last seq and epoch it saw, so a dropped connection
//   (network, 4008 slow consumer, 1012 restart) loses nothing.
// - A join reply with "more":true and "next":N means the server pages a
//   long replay: the topic is not joined yet, and the client joins again
//   with since=N until a reply comes without "more".
// - Every send and complete_task carries a client id; one not answered
//   before a disconnect is sent again, with the same id, once its topic is
//   joined again (the server drops a repeat). "overloaded" replies are
//   retried after retry_after_ms.
// - No credential goes in the socket's URL: before each connection (and
//   each reconnection) it asks the page's ticket() for a one-use ticket
//   (POST /api/ws/ticket, valid 30 s) and opens /ws?ticket=…. A ticket
//   refused (a login ended, gates to pass again) counts as a refused
//   opening: failedOpen lets the page ask the API what happened.
// - Close codes 4001, 4003 and 4010 are final: no reconnect. 4009 (too
//   many connections of one customer session) retries like a drop, with
//   the code in the "down" state so the page can say why.
// - Read receipts: read(topic, seq) reports how far the page has read a
//   room; it only rises, goes at most once a second per room (the last
//   one always goes), and what a drop lost is sent again once joined.

const FINAL = { 4001: "credential", 4003: "access", 4010: "ended" };
const BASE_DELAY = 500;
const MAX_DELAY = 15000;
const TYPING_EVERY = 2000;
const READ_EVERY = 1000;

// newId is a random UUID; crypto.randomUUID exists only in secure contexts.
export function newId() {
  if (globalThis.crypto && crypto.randomUUID) {
    try { return crypto.randomUUID(); } catch (e) { /* not a secure context */ }
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// backoff is the delay before reconnect attempt n (0, 1, 2…): doubling
// from 0.5 s up to 15 s, with "equal jitter" (half fixed, half random) so
// that clients dropped together do not all come back at once.
export function backoff(n, random = Math.random) {
  const d = Math.min(MAX_DELAY, BASE_DELAY * 2 ** n);
  return Math.round(d / 2 + random() * (d / 2));
}

const RETRYABLE = new Set(["disconnected", "not_joined"]);

export class Live {
  // ticket: an async function answering a fresh ticket (or throwing);
  // on: {frame(f), joined(topic, data), joinFailed(topic, reply),
  //      reset(topic), state(name, info), final(reason, code), failedOpen()}
  constructor(ticket, on) {
    this.ticket = ticket;
    this.on = on || {};
    this.topics = new Map(); // topic -> {seq, epoch, replay, joined, joining, leaving}
    this.pending = new Map(); // ref -> resolve
    this.outbox = new Map(); // id -> queued send, in send order
    this.ref = 0;
    this.attempt = 0;
    this.stopped = false;
    this.lastTyping = new Map();
    this.state = "connecting";
    this.wake = () => { if (this.state === "down") { this.retryNow(); } };
    addEventListener("online", this.wake);
    document.addEventListener("visibilitychange", this.wake);
    this.connect();
  }

  setState(name, info) {
    this.state = name;
    if (this.on.state) { this.on.state(name, info || {}); }
  }

  async connect() {
    if (this.stopped || this.opening) { return; }
    clearTimeout(this.timer);
    this.opening = true;
    let ws;
    try {
      const ticket = await this.ticket();
      if (this.stopped) { return; }
      ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host +
        "/ws?ticket=" + encodeURIComponent(ticket), "cohub.v1");
    } catch (e) {
      if (!this.stopped) { this.retryLater(false); }
      return;
    } finally {
      this.opening = false;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.openedAt = Date.now();
      this.setState("open");
      for (const topic of this.topics.keys()) { this.joinLoop(topic); }
    };
    ws.onmessage = (m) => {
      for (const line of String(m.data).split("\n")) {
        if (!line) { continue; }
        let f;
        try { f = JSON.parse(line); } catch (e) { continue; }
        this.dispatch(f);
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) { return; }
      this.ws = null;
      this.dropPending();
      if (FINAL[ev.code]) {
        this.stop();
        this.setState("final", { reason: FINAL[ev.code], code: ev.code });
        if (this.on.final) { this.on.final(FINAL[ev.code], ev.code); }
        return;
      }
      if (this.stopped) { return; }
      // A connection that lived a while starts the backoff over; one that
      // is closed straight after opening keeps backing off (4009: too many
      // tabs; it connects once another one closes).
      if (opened && Date.now() - this.openedAt > 5000) { this.attempt = 0; }
      this.retryLater(opened, ev.code);
    };
  }

  retryLater(opened, code) {
    const delay = backoff(this.attempt++);
    this.setState("down", { retryAt: Date.now() + delay, code });
    this.timer = setTimeout(() => this.connect(), delay);
    // An upgrade refused before it opened may be a credential gone (a
    // login expired, gates to pass again): the page checks.
    if (!opened && this.on.failedOpen) { this.on.failedOpen(); }
  }

  // retryNow reconnects at once (the browser came online, the tab came
  // back, the person asked).
  retryNow() {
    if (this.stopped || this.ws || this.opening) { return; }
    clearTimeout(this.timer);
    this.connect();
  }

  // stop closes for good.
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    removeEventListener("online", this.wake);
    document.removeEventListener("visibilitychange", this.wake);
    for (const t of this.topics.values()) { t.joined = false; }
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close(1000);
    }
    this.dropPending();
  }

  dropPending() {
    for (const t of this.topics.values()) { t.joined = false; }
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const resolve of waiting) {
      resolve({ op: "reply", status: "error", data: { code: "disconnected", message: "not connected" } });
    }
  }

  dispatch(f) {
    if (f.op === "reply") {
      const resolve = this.pending.get(f.ref);
      if (resolve) {
        this.pending.delete(f.ref);
        resolve(f);
      }
      return;
    }
    const t = this.topics.get(f.topic);
    if (f.op === "event" && f.seq) {
      if (!t || f.seq <= t.seq) { return; } // left, or seen before a resume
      t.seq = f.seq;
    }
    if (this.on.frame) { this.on.frame(f); }
  }

  // call sends an op with a fresh ref and resolves with its reply (or a
  // "disconnected" error when the connection drops first).
  call(op) {
    return new Promise((resolve) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        resolve({ op: "reply", status: "error", data: { code: "disconnected", message: "not connected" } });
        return;
      }
      op.ref = String(++this.ref);
      this.pending.set(op.ref, resolve);
      this.ws.send(JSON.stringify(op));
    });
  }

  // join follows a topic. replay: join with since (0 at first: the whole
  // transcript), so a resume gets exactly what was missed; the inbox
  // joins without. from ({seq, epoch}) starts after what a page already
  // holds of the topic.
  join(topic, replay = topic !== "inbox", from = null) {
    let t = this.topics.get(topic);
    if (t && t.leaving) {
      t.leaving = false; // still joined: frames kept flowing meanwhile
    } else if (!t) {
      t = { seq: from ? from.seq : 0, epoch: from ? from.epoch || "" : "", replay, joined: false, joining: null, leaving: false };
      this.topics.set(topic, t);
    }
    if (t.joined) { return Promise.resolve({ status: "ok", data: {} }); }
    if (this.ws && this.ws.readyState === WebSocket.OPEN) { return this.joinLoop(topic); }
    return Promise.resolve(null); // joins once connected
  }

  joinLoop(topic) {
    const t = this.topics.get(topic);
    if (!t) { return Promise.resolve(null); }
    if (t.joining) { return t.joining; }
    t.joining = (async () => {
      let since = t.replay ? t.seq : undefined;
      let epoch = t.epoch;
      let reset = false;
      for (;;) {
        const op = { op: "join", topic };
        if (since !== undefined) {
          op.since = since;
          if (epoch) { op.epoch = epoch; }
        }
        const r = await this.call(op);
        if (this.topics.get(topic) !== t) { return r; }
        if (r.status !== "ok") {
          if (r.data && r.data.code !== "disconnected" && this.on.joinFailed) { this.on.joinFailed(topic, r); }
          return r;
        }
        const d = r.data || {};
        if (d.epoch) { epoch = d.epoch; }
        if (d.more) { // a paged replay: not joined yet, ask for the next page
          since = typeof d.next === "number" ? d.next : t.seq;
          continue;
        }
        if (d.recovered === false && since > 0 && !reset) {
          // The log cannot serve since (it was lost and begun again):
          // start the transcript over.
          reset = true;
          t.seq = 0;
          t.epoch = epoch = d.epoch || "";
          if (this.on.reset) { this.on.reset(topic); }
          await this.call({ op: "leave", topic });
          since = 0;
          continue;
        }
        t.epoch = epoch || "";
        t.joined = true;
        if (this.on.joined) { this.on.joined(topic, d); }
        this.flush(topic);
        this.flushRead(topic);
        return r;
      }
    })().finally(() => { t.joining = null; });
    return t.joining;
  }

  // leave stops following a topic; sends still queued for it go first.
  leave(topic) {
    const t = this.topics.get(topic);
    if (!t) { return; }
    t.leaving = true;
    this.maybeLeave(topic);
  }

  maybeLeave(topic) {
    const t = this.topics.get(topic);
    if (!t || !t.leaving) { return; }
    for (const e of this.outbox.values()) {
      if (e.topic === topic) { return; }
    }
    this.topics.delete(topic);
    if (t.joined) { this.call({ op: "leave", topic }); }
  }

  // send queues a chat message; it returns the send's id at once and a
  // promise of the final reply (ok, or an error that retrying cannot fix).
  send(topic, text) {
    return this.enqueue(topic, "send", { text });
  }

  completeTask(topic, taskID, result) {
    return this.enqueue(topic, "complete_task", { task_id: taskID, result: result || {} });
  }

  enqueue(topic, op, data) {
    const e = { id: newId(), topic, op, data, inflight: false, timer: 0 };
    const done = new Promise((resolve) => { e.resolve = resolve; });
    this.outbox.set(e.id, e);
    this.trySend(e);
    return { id: e.id, done };
  }

  // queued lists the sends of a topic still waiting for their reply.
  queued(topic) {
    return [...this.outbox.values()].filter((e) => e.topic === topic);
  }

  flush(topic) {
    for (const e of this.outbox.values()) {
      if (e.topic === topic) { this.trySend(e); }
    }
  }

  trySend(e) {
    const t = this.topics.get(e.topic);
    if (e.inflight || e.timer || !t || !t.joined || !this.ws || this.ws.readyState !== WebSocket.OPEN) { return; }
    e.inflight = true;
    this.call({ op: e.op, id: e.id, topic: e.topic, data: e.data }).then((r) => {
      e.inflight = false;
      if (!this.outbox.has(e.id)) { return; }
      const d = r.data || {};
      if (r.status === "ok") {
        this.finish(e, r);
      } else if (RETRYABLE.has(d.code)) {
        // Sent again, with the same id, once the topic is joined again.
      } else if (d.code === "overloaded" || d.code === "rate_limited") {
        const wait = (d.retry_after_ms > 0 ? d.retry_after_ms : 1000) + Math.random() * 250;
        e.timer = setTimeout(() => { e.timer = 0; this.trySend(e); }, wait);
      } else {
        this.finish(e, r);
      }
    });
  }

  finish(e, r) {
    this.outbox.delete(e.id);
    e.resolve(r);
    this.maybeLeave(e.topic);
  }

  // read reports that the page has read a topic up to seq.
  read(topic, seq) {
    const t = this.topics.get(topic);
    if (!t || !(seq > (t.readWant || 0))) { return; }
    t.readWant = seq;
    this.flushRead(topic);
  }

  flushRead(topic) {
    const t = this.topics.get(topic);
    if (!t || t.readTimer || !(t.readWant > (t.readSent || 0)) || !t.joined || !this.ws || this.ws.readyState !== WebSocket.OPEN) { return; }
    const wait = (t.readAt || 0) + READ_EVERY - Date.now();
    if (wait > 0) {
      t.readTimer = setTimeout(() => { t.readTimer = 0; this.flushRead(topic); }, wait);
      return;
    }
    const seq = t.readWant;
    t.readAt = Date.now();
    t.readSent = seq;
    this.call({ op: "read", topic, data: { seq } }).then((r) => {
      if (r.status === "ok") {
        t.readOk = Math.max(t.readOk || 0, seq);
        return;
      }
      // Not taken: sent again once joined (a drop) or after a pause.
      t.readSent = t.readOk || 0;
      if (r.data && r.data.code === "rate_limited") {
        t.readTimer = setTimeout(() => { t.readTimer = 0; this.flushRead(topic); }, READ_EVERY);
      }
    });
  }

  // typing tells the room, at most once every 2 s per topic.
  typing(topic) {
    const now = Date.now();
    const t = this.topics.get(topic);
    if (!t || !t.joined || now - (this.lastTyping.get(topic) || 0) < TYPING_EVERY) { return; }
    this.lastTyping.set(topic, now);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ op: "typing", topic }));
    }
  }
}
