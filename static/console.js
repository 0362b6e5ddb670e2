// A small agent console: sign in, start a session, browse history. It
// uses the cookie session, so every change carries the browser's Origin.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };

  function api(method, path, body) {
    return fetch(path, {
      method: method, credentials: "same-origin",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().then(function (b) { return { status: r.status, body: b }; });
    });
  }

  function errorText(r) {
    var e = r.body && r.body.error;
    if (!e) { return "Something went wrong."; }
    var fields = e.fields ? Object.keys(e.fields).map(function (k) { return k + ": " + e.fields[k]; }).join("; ") : "";
    return fields || e.message;
  }

  function cell(text) {
    var td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  var live, room, typingTimer;
  var labels = {
    never_joined: "never joined", online_incomplete: "online, tasks to do", offline_incomplete: "offline, tasks to do",
    online_completed: "online, tasks done", offline_completed: "offline, tasks done"
  };

  // hover is the indicator's hover card: authentication, consent, last seen.
  function hover(ind) {
    return "Authentication: " + ind.authentication.replace(/_/g, " ") + " · Consent: " + ind.consent.replace(/_/g, " ") +
      (ind.last_seen_at ? " · Last seen " + new Date(ind.last_seen_at).toLocaleString() : "");
  }

  function showIndicator(ind) {
    $("room-dot").className = "dot " + ind.state;
    $("room-dot").title = hover(ind);
    $("room-status").textContent = "Customer: " + labels[ind.state] + " — " + hover(ind);
  }

  function line(who, text, note) { window.CohubLive.line($("messages"), who, text, note); }

  function renderTasks() {
    var list = $("tasks");
    list.textContent = "";
    room.tasks.forEach(function (t) {
      var li = document.createElement("li");
      var title = document.createElement("span");
      title.textContent = t.title + " (" + t.kind + ")";
      var st = document.createElement("span");
      st.className = "pill";
      st.textContent = t.status === "completed" ? "done" : "to do";
      li.appendChild(title);
      li.appendChild(st);
      list.appendChild(li);
    });
  }

  function showSession(s) {
    room.tasks = s.tasks;
    $("room-title").textContent = s.customer.name || s.customer.email || s.customer.phone;
    $("room-state").textContent = s.state;
    showIndicator(s.indicator);
    renderTasks();
  }

  var notes = {
    "customer.joined": "The customer joined.", "customer.reengaged": "Customer details changed.",
    "session.ended": "The session ended.", "session.renewed": "The session was renewed."
  };

  function onEvent(f) {
    var d = f.data;
    if (f.topic === "inbox") { loadHistory(); return; }
    if (!room || f.topic !== room.topic) { return; }
    if (d.type === "message") {
      line(d.from.role === "customer" ? "Customer" : (d.from.name || "Agent"), d.text);
    } else if (d.type === "task.assigned" || d.type === "task.completed") {
      room.tasks = room.tasks.filter(function (t) { return t.id !== d.task.id; }).concat([d.task]);
      renderTasks();
      if (d.type === "task.completed") { line("", "The customer completed “" + d.task.title + "”.", true); }
    } else if (d.type === "task.withdrawn") {
      room.tasks = room.tasks.filter(function (t) { return t.id !== d.task_id; });
      renderTasks();
    } else if (notes[d.type]) {
      line("", notes[d.type], true);
      if (d.type === "session.ended") { $("room-state").textContent = "ended"; }
      if (d.type === "session.renewed") { $("room-state").textContent = "active"; }
    }
  }

  function connect() {
    if (live) { return; }
    live = new window.CohubLive("", {
      frame: function (f) {
        if (f.op === "event") { onEvent(f); }
        if (!room || f.topic !== room.topic) { return; }
        if (f.op === "status") { showIndicator(f.data); }
        if (f.op === "typing") {
          $("typing").textContent = "The customer is typing…";
          clearTimeout(typingTimer);
          typingTimer = setTimeout(function () { $("typing").textContent = ""; }, 3000);
        }
      },
      joined: function (topic, data) {
        if (room && topic === room.topic && data.session) { showSession(data.session); }
      },
      down: function () { $("room-error").textContent = "Reconnecting…"; },
      open: function () { $("room-error").textContent = ""; },
      closed: function () { location.reload(); }
    });
    live.join("inbox");
  }

  function openRoom(id) {
    if (room) { live.leave(room.topic); }
    room = { id: id, topic: "room:" + id, tasks: [] };
    $("messages").textContent = "";
    $("room").hidden = false;
    live.join(room.topic).then(function (r) {
      if (r && r.status !== "ok") { $("room-error").textContent = r.data.message; }
      loadHistory();
    });
  }

  function roomAction(path, body) {
    return api("POST", "/api/sessions/" + room.id + path, body).then(function (r) {
      $("room-error").textContent = r.status < 300 ? "" : errorText(r);
      return r;
    });
  }

  $("chat-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("text").value.trim();
    if (!text || !room) { return; }
    live.send(room.topic, text).then(function (r) {
      if (r.status === "ok") { $("text").value = ""; $("chat-error").textContent = ""; } else { $("chat-error").textContent = r.data.message; }
    });
  });
  $("text").addEventListener("input", function () { if (room) { live.typing(room.topic); } });
  $("task-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    roomAction("/tasks", { kind: $("task-kind").value, title: $("task-title").value.trim() }).then(function (r) {
      if (r.status === 201) { $("task-form").reset(); }
    });
  });
  $("end").addEventListener("click", function () { roomAction("/end"); });
  $("renew").addEventListener("click", function () { roomAction("/renew"); });
  $("close-room").addEventListener("click", function () {
    live.leave(room.topic);
    room = null;
    $("room").hidden = true;
  });

  function loadHistory() {
    var q = encodeURIComponent($("q").value);
    api("GET", "/api/sessions?scope=mine&limit=50&q=" + q).then(function (r) {
      var body = $("history");
      body.textContent = "";
      if (r.status !== 200) { return; }
      r.body.sessions.forEach(function (s) {
        var tr = document.createElement("tr");
        var c = s.customer;
        tr.className = "clickable";
        tr.tabIndex = 0;
        tr.dataset.id = s.id;
        tr.addEventListener("click", function () { openRoom(s.id); });
        tr.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { openRoom(s.id); } });
        tr.appendChild(cell((c.name ? c.name + " · " : "") + (c.email || c.phone)));
        tr.appendChild(cell(s.state));
        var st = cell(labels[s.indicator.state]);
        st.title = hover(s.indicator);
        tr.appendChild(st);
        tr.appendChild(cell(s.updated ? "new activity" : ""));
        body.appendChild(tr);
      });
    });
  }

  function enter(me) {
    $("login").hidden = true;
    $("console").hidden = false;
    $("hello").textContent = "Hello, " + me.name;
    loadHistory();
    connect();
  }

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    api("POST", "/api/login", { email: $("email").value, password: $("password").value }).then(function (r) {
      if (r.status === 200) { enter(r.body.agent); } else { $("login-error").textContent = errorText(r); }
    });
  });

  $("start-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var contact = $("c-contact").value.trim();
    var customer = { name: $("c-name").value.trim() };
    if (contact.indexOf("@") >= 0) { customer.email = contact; } else { customer.phone = contact; }
    api("POST", "/api/sessions", { mode: "start", customer: customer }).then(function (r) {
      var out = $("start-result");
      if (r.status === 201) {
        var inv = r.body.invitations[r.body.invitations.length - 1];
        out.className = inv && inv.status === "failed" ? "error" : "ok";
        out.textContent = inv ? "Invitation " + inv.status + " to " + inv.to : "Session started";
        $("start-form").reset();
        loadHistory();
      } else {
        out.className = "error";
        out.textContent = errorText(r);
      }
    });
  });

  $("q").addEventListener("input", loadHistory);
  $("logout").addEventListener("click", function () {
    api("POST", "/api/logout").then(function () { location.reload(); });
  });

  api("GET", "/api/me").then(function (r) { if (r.status === 200) { enter(r.body); } });
})();
