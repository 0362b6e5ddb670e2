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

  function loadHistory() {
    var q = encodeURIComponent($("q").value);
    api("GET", "/api/sessions?scope=mine&limit=50&q=" + q).then(function (r) {
      var body = $("history");
      body.textContent = "";
      if (r.status !== 200) { return; }
      r.body.sessions.forEach(function (s) {
        var tr = document.createElement("tr");
        var c = s.customer;
        tr.appendChild(cell((c.name ? c.name + " · " : "") + (c.email || c.phone)));
        tr.appendChild(cell(s.state));
        tr.appendChild(cell(s.indicator.state.replace(/_/g, " ")));
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
