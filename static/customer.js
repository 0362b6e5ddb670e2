// The customer page: the link token is the last path segment; it goes to
// the API in the Authorization header, never in a URL of another request.
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

  function api(method, path) {
    return fetch(path, { method: method, headers: { "Authorization": "Link " + token }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); });
  }

  function show(view) {
    $("status").hidden = true;
    $("session").hidden = false;
    var who = view.session.customer.name ? "Welcome, " + view.session.customer.name : "Welcome";
    $("title").textContent = who;
    $("subtitle").textContent = (view.agent ? view.agent + " invited you to this session." : "") +
      (view.access === "limited" ? " This session has ended: you can still read it." : "");
    var list = $("tasks");
    list.textContent = "";
    view.session.tasks.forEach(function (t) {
      var li = document.createElement("li");
      var title = document.createElement("span");
      title.textContent = t.title;
      var st = document.createElement("span");
      st.className = "pill";
      st.textContent = t.status === "completed" ? "done" : "to do";
      li.appendChild(title);
      li.appendChild(st);
      list.appendChild(li);
    });
    if (view.session.tasks.length === 0) {
      var li = document.createElement("li");
      li.className = "muted";
      li.textContent = "Nothing to do yet.";
      list.appendChild(li);
    }
    var g = view.gates;
    if (g.authentication === "pending" || g.consent === "pending" || g.consent === "declined") {
      $("gates").hidden = false;
      $("gates").textContent = "Before you continue, please confirm your identity and consent.";
    }
  }

  function fail(code) {
    if (code === "link_expired") {
      $("status").hidden = true;
      $("expired").hidden = false;
      return;
    }
    $("status").innerHTML = "";
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = reasons[code] || "Something went wrong. Please try again.";
    $("status").appendChild(p);
  }

  $("newlink").addEventListener("click", function () {
    $("newlink").disabled = true;
    api("POST", "/api/customer/new-link").then(function (r) {
      var out = $("newlink-result");
      if (r.status === 202) {
        out.className = "ok";
        out.textContent = "A new link is on its way to " + r.body.to + ".";
      } else {
        out.className = "error";
        out.textContent = r.body.error && r.body.error.code === "rate_limited"
          ? "A new link was just sent. Please wait a moment before asking again."
          : (reasons[r.body.error && r.body.error.code] || "We could not send a new link.");
        $("newlink").disabled = false;
      }
    });
  });

  api("GET", "/api/customer/session").then(function (r) {
    if (r.status === 200) { show(r.body); } else { fail(r.body.error && r.body.error.code); }
  }, function () { fail("backend_unavailable"); });
})();
