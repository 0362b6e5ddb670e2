// Cohub's live connection (DESIGN.md §6), shared by the console and the
// customer page: one WebSocket, many topics, ref-matched replies. It
// reconnects with backoff and resumes every topic from its last seq, so
// a dropped connection (network, 4008 slow consumer, 1012 restart)
// loses nothing.
(function () {
  "use strict";
  var FINAL = { 4001: "credential", 4003: "access", 4010: "ended" };

  function Live(query, handlers) {
    this.query = query;
    this.on = handlers;          // {event(topic, seq, data), frame(f), open(), down(), closed(reason)}
    this.topics = {};            // topic -> {seq, epoch}
    this.pending = {};           // ref -> {resolve}
    this.ref = 0;
    this.backoff = 500;
    this.connect();
  }

  Live.prototype.connect = function () {
    var self = this;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws?" + this.query;
    var ws = new WebSocket(url, "cohub.v1");
    this.ws = ws;
    ws.onopen = function () {
      self.backoff = 500;
      Object.keys(self.topics).forEach(function (t) { self.rejoin(t); });
      if (self.on.open) { self.on.open(); }
    };
    ws.onmessage = function (m) {
      String(m.data).split("\n").forEach(function (line) {
        if (line) { self.dispatch(JSON.parse(line)); }
      });
    };
    ws.onclose = function (ev) {
      Object.keys(self.pending).forEach(function (r) {
        self.pending[r]({ status: "error", data: { code: "disconnected" } });
      });
      self.pending = {};
      if (FINAL[ev.code]) {
        if (self.on.closed) { self.on.closed(FINAL[ev.code]); }
        return;
      }
      if (self.on.down) { self.on.down(); }
      setTimeout(function () { self.connect(); }, self.backoff);
      self.backoff = Math.min(self.backoff * 2, 10000);
    };
  };

  Live.prototype.dispatch = function (f) {
    if (f.op === "reply") {
      var p = this.pending[f.ref];
      delete this.pending[f.ref];
      if (p) { p(f); }
      return;
    }
    var t = this.topics[f.topic];
    if (f.op === "event" && f.seq && t) {
      if (f.seq <= t.seq) { return; } // already seen before a resume
      t.seq = f.seq;
    }
    if (this.on.frame) { this.on.frame(f); }
  };

  // call sends an op and resolves with its reply.
  Live.prototype.call = function (op) {
    var self = this;
    op.ref = String(++this.ref);
    return new Promise(function (resolve) {
      if (!self.ws || self.ws.readyState !== 1) {
        resolve({ status: "error", data: { code: "disconnected" } });
        return;
      }
      self.pending[op.ref] = resolve;
      self.ws.send(JSON.stringify(op));
    });
  };

  Live.prototype.join = function (topic) {
    // since 0: a page that opens a room reads its whole transcript.
    this.topics[topic] = this.topics[topic] || { seq: 0, epoch: "" };
    if (this.ws.readyState === 1) { return this.rejoin(topic); }
    return Promise.resolve(null);
  };

  // rejoin joins a topic from its last seq (or from since). A long replay
  // comes a page at a time: a reply with more:true is not a join, and the
  // client joins again from next until the rest fits.
  Live.prototype.rejoin = function (topic, since) {
    var self = this, t = this.topics[topic];
    var op = { op: "join", topic: topic };
    if (topic !== "inbox") { op.since = since === undefined ? t.seq : since; op.epoch = t.epoch; }
    return this.call(op).then(function (r) {
      if (r.status === "ok" && r.data && r.data.more) {
        t.epoch = r.data.epoch || "";
        return self.rejoin(topic, r.data.next);
      }
      if (r.status === "ok" && r.data) {
        if (r.data.recovered === false) { t.seq = r.data.seq || 0; }
        t.epoch = r.data.epoch || "";
        if (self.on.joined) { self.on.joined(topic, r.data); }
      }
      return r;
    });
  };

  Live.prototype.leave = function (topic) {
    delete this.topics[topic];
    return this.call({ op: "leave", topic: topic });
  };

  // send names each message, so a resend after a lost reply is logged once.
  Live.prototype.send = function (topic, text) {
    var id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + "-" + Math.random();
    return this.call({ op: "send", topic: topic, id: id, data: { text: text } });
  };

  Live.prototype.typing = function (topic) {
    if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify({ op: "typing", topic: topic })); }
  };

  // line appends one chat line (a note when who is empty) to a list.
  Live.line = function (list, who, text, note) {
    var li = document.createElement("li");
    if (note) { li.className = "note"; }
    if (who) {
      var w = document.createElement("span");
      w.className = "who";
      w.textContent = who;
      li.appendChild(w);
    }
    li.appendChild(document.createTextNode(text));
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  };

  window.CohubLive = Live;
})();
