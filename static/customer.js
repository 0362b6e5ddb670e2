// The customer page: the link token is the last path segment; it goes to
// the API in the Authorization header and to the live connection in its
// query (browsers cannot set WebSocket headers); the gates' customer
// token travels as an HttpOnly cookie.
(function () {
  "use strict";
  var token = decodeURIComponent(location.pathname.replace(/^\/c\//, ""));
  var $ = function (id) { return document.getElementById(id); };
  var reasons = {
    link_revoked: "This link is no longer valid. Please use the latest link your agent sent you.",
    session_ended: "This session has ended. Thank you!",
    unauthenticated: "This link is not valid. Please check that you copied it whole.",
    backend_unavailable: "We cannot reach the service right now. Please try again in a moment."
  };
  var view, live, topic, tasks = {};

  function api(method, path, body) {
    var headers = { "Authorization": "Link " + token };
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(path, { method: method, headers: headers, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined })
      .then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); });
  }

  function code(r) { return r.body && r.body.error && r.body.error.code; }
  function message(r) { return (r.body && r.body.error && r.body.error.message) || "Something went wrong."; }

  function load() {
    api("GET", "/api/customer/session").then(function (r) {
      if (r.status === 200) { route(r.body); } else { fail(code(r)); }
    }, function () { fail("backend_unavailable"); });
  }

  // route shows the next gate, or the session once every gate is passed.
  function route(v) {
    view = v;
    $("status").hidden = true;
    var g = v.gates;
    $("verify").hidden = !(g.authentication === "pending" || g.authentication === "locked");
    $("consent").hidden = $("verify").hidden === false || !(g.consent === "pending" || g.consent === "declined");
    if (!$("verify").hidden) {
      $("otp").hidden = g.method !== "otp";
      $("answer").dataset.testid = g.method === "pin" ? "pin-input" : "otp-input";
      $("answer-label").textContent = g.method === "pin" ? "The PIN your agent gave you" : "Code";
      if (g.authentication === "locked") { $("verify-error").textContent = "Too many wrong answers. Please try again in 15 minutes."; }
      return;
    }
    if (!$("consent").hidden) {
      $("consent-text").textContent = v.session.consent.text;
      if (g.consent === "declined") { $("consent-note").textContent = "You did not agree. You can change your mind at any time."; }
      return;
    }
    showSession(v);
    connect();
  }

  function showSession(v) {
    $("session").hidden = false;
    $("room").hidden = false;
    $("title").textContent = v.session.customer.name ? "Welcome, " + v.session.customer.name : "Welcome";
    $("subtitle").textContent = (v.agent ? v.agent + " invited you to this session." : "") +
      (v.access === "limited" ? " This session has ended: you can still read it." : "");
    $("chat-form").hidden = v.access === "limited";
    tasks = {};
    v.session.tasks.forEach(function (t) { tasks[t.id] = t; });
    renderTasks();
  }

  function renderTasks() {
    var list = $("tasks");
    list.textContent = "";
    var ids = Object.keys(tasks);
    ids.forEach(function (id) {
      var t = tasks[id], li = document.createElement("li"), title = document.createElement("span");
      title.textContent = t.title;
      li.appendChild(title);
      if (t.status === "completed") {
        var st = document.createElement("span");
        st.className = "pill";
        st.textContent = "done";
        li.appendChild(st);
      } else if (view.access === "full") {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = "Mark done";
        b.dataset.testid = "task-complete";
        b.addEventListener("click", function () { complete(id, b); });
        li.appendChild(b);
      }
      list.appendChild(li);
    });
    if (ids.length === 0) {
      var li = document.createElement("li");
      li.className = "muted";
      li.textContent = "Nothing to do yet.";
      list.appendChild(li);
    }
  }

  function complete(id, button) {
    button.disabled = true;
    live.call({ op: "complete_task", topic: topic, data: { task_id: id, result: { done: true } } }).then(function (r) {
      if (r.status !== "ok") { button.disabled = false; $("chat-error").textContent = r.data.message || "Not saved."; }
    });
  }

  function line(who, text, note) { window.CohubLive.line($("messages"), who, text, note); }

  function onEvent(d) {
    switch (d.type) {
    case "message":
      line(d.from.role === "customer" ? "You" : (d.from.name || "Agent"), d.text);
      break;
    case "task.assigned":
    case "task.completed":
      tasks[d.task.id] = d.task;
      renderTasks();
      break;
    case "task.withdrawn":
      delete tasks[d.task_id];
      renderTasks();
      break;
    case "session.ended":
      line("", "The session has ended.", true);
      if (d.access && d.access.mode === "limited_for") { view.access = "limited"; $("chat-form").hidden = true; renderTasks(); }
      break;
    case "session.renewed":
      line("", "Your agent reopened the session.", true);
      load();
      break;
    }
  }

  var typingTimer;
  function connect() {
    topic = "room:" + view.session.id;
    if (live) { return; }
    live = new window.CohubLive("link=" + encodeURIComponent(token), {
      open: function () { $("conn").textContent = ""; },
      down: function () { $("conn").textContent = "Reconnecting…"; },
      closed: function (why) { fail(why === "ended" ? "session_ended" : "link_revoked"); },
      frame: function (f) {
        if (f.op === "event") { onEvent(f.data); }
        if (f.op === "presence") { $("agent-here").hidden = f.data.agents.length === 0; }
        if (f.op === "typing") {
          $("typing").textContent = "Your agent is typing…";
          clearTimeout(typingTimer);
          typingTimer = setTimeout(function () { $("typing").textContent = ""; }, 3000);
        }
      }
    });
    live.join(topic);
  }

  function fail(c) {
    ["verify", "consent", "session", "room"].forEach(function (id) { $(id).hidden = true; });
    if (c === "link_expired") {
      $("status").hidden = true;
      $("expired").hidden = false;
      return;
    }
    $("status").hidden = false;
    $("status").textContent = "";
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = reasons[c] || "Something went wrong. Please try again.";
    $("status").appendChild(p);
  }

  $("send-code").addEventListener("click", function () {
    $("send-code").disabled = true;
    api("POST", "/api/customer/otp").then(function (r) {
      $("code-sent").textContent = r.status === 202 ? "Sent to " + r.body.to + "." : message(r);
      setTimeout(function () { $("send-code").disabled = false; }, 30000);
    });
  });

  $("verify-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = view.gates.method === "pin" ? { pin: $("answer").value.trim() } : { code: $("answer").value.trim() };
    api("POST", "/api/customer/verify", body).then(function (r) {
      if (r.status === 200) { $("verify-error").textContent = ""; route(r.body); } else { $("verify-error").textContent = message(r); }
    });
  });

  function consent(accept) {
    api("POST", "/api/customer/consent", { accept: accept }).then(function (r) {
      if (r.status === 200) { route(r.body); } else { $("consent-note").textContent = message(r); }
    });
  }
  $("accept").addEventListener("click", function () { consent(true); });
  $("decline").addEventListener("click", function () { consent(false); });

  $("chat-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("text").value.trim();
    if (!text) { return; }
    live.send(topic, text).then(function (r) {
      if (r.status === "ok") { $("text").value = ""; $("chat-error").textContent = ""; } else { $("chat-error").textContent = r.data.message; }
    });
  });
  $("text").addEventListener("input", function () { if (live) { live.typing(topic); } });

  $("newlink").addEventListener("click", function () {
    $("newlink").disabled = true;
    api("POST", "/api/customer/new-link").then(function (r) {
      var out = $("newlink-result");
      if (r.status === 202) {
        out.className = "ok";
        out.textContent = "A new link is on its way to " + r.body.to + ".";
      } else {
        out.className = "error";
        out.textContent = code(r) === "rate_limited"
          ? "A new link was just sent. Please wait a moment before asking again."
          : (reasons[code(r)] || "We could not send a new link.");
        $("newlink").disabled = false;
      }
    });
  });

  load();
})();
