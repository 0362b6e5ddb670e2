// The agent console: sign in, the history panel, the collaboration room,
// new sessions, and the admin screens.
import { html, render, useState, useEffect, Icon, Field, Notice, Menu, MenuItem, cx } from "./ui.js";
import { agentApi } from "./api.js";
import { plainError, initials } from "./words.js";
import {
  me, auth, conn, lost, route, go, hist, defaultScope, teamName, startLive, stopLive, leaveRoomsBut,
  refreshHistory, live,
} from "./console/state.js";
import { HistoryPanel, HistoryToggle } from "./console/history.js";
import { RoomView, Home } from "./console/room.js";
import { NewSession } from "./console/newsession.js";
import { AdminView } from "./console/admin.js";
import { w } from "./console/catalog.js";

const ROLE = { agent: w("console.agent"), supervisor: w("console.supervisor"), admin: w("console.admin") };

agentApi.onSignedOut = () => {
  if (auth.value === "in") {
    auth.value = "expired";
    stopLive();
  }
};

async function enter() {
  const a = await agentApi.get("/api/me");
  me.value = a;
  hist.scope.value = defaultScope(a);
  auth.value = "in";
  startLive();
}

// signedIn says a login cookie may be there (the API sets a readable
// hint beside it): without one the sign-in form shows at once, with no
// 401 from /api/me in the browser's console.
function signedIn() {
  return document.cookie.split("; ").some((c) => c.startsWith("cohub_signed_in="));
}

async function boot() {
  if (!signedIn()) {
    auth.value = "signed-out";
    return;
  }
  try {
    await enter();
  } catch (e) {
    auth.value = e.status === 401 ? "signed-out" : "unreachable";
  }
}

async function signOut(everywhere) {
  try {
    await agentApi.post(everywhere ? "/api/logout?all=1" : "/api/logout");
  } catch (e) { /* signed out either way */ }
  stopLive();
  me.value = null;
  auth.value = "signed-out";
  go("#/");
}

// Sign in -------------------------------------------------------------------

// ssoRefusal is the words for a single sign-on the server sent back
// with ?sso_error=<code>; the URL is put back to / so a reload does not
// say it again.
function ssoRefusal() {
  const code = new URLSearchParams(location.search).get("sso_error");
  if (!code) { return ""; }
  history.replaceState(null, "", "/" + location.hash);
  switch (code) {
  case "unauthenticated": return w("console.single_sign_on_did");
  case "forbidden": return w("console.this_account_is_disabled");
  default: return plainError({ code });
  }
}

const ssoNotice = ssoRefusal();

// SSOButton offers the org's OpenID provider when single sign-on is on.
// It is a link, not a form: the server sends the browser on to the
// provider, which a form's redirect to another site may not do.
function SSOButton() {
  const [sso, setSSO] = useState(null);
  useEffect(() => {
    agentApi.get("/api/sso").then(setSSO, () => setSSO(null));
  }, []);
  if (!sso || !sso.enabled) { return null; }
  return html`<div class="sso">
    <a class="btn btn-block" href="/api/sso/start" data-testid="sso-start">${w("console.sign_in_with")} ${sso.name}</a>
    <p class="sso-or" aria-hidden="true">${w("console.or_with_your_password")}</p>
  </div>`;
}

function Login({ expired }) {
  const [email, setEmail] = useState((me.value && me.value.email) || "");
  const [password, setPassword] = useState("");
  const [error, setError] = useState(ssoNotice);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError("");
    if (!email.trim() || !password) {
      setError(w("console.enter_your_email_and"));
      return;
    }
    setBusy(true);
    try {
      await agentApi.post("/api/login", { email: email.trim(), password });
      stopLive();
      await enter();
    } catch (err) {
      setBusy(false);
      setError(err.code === "unauthenticated" ? w("console.that_email_and_password")
        : err.code === "rate_limited" ? w("console.too_many_tries_wait")
          : err.code === "password_sign_in_off" ? plainError(err)
          : err.code === "forbidden" ? (/disabled/.test(err.message || "") ? w("console.this_account_is_disabled")
            : w("console.this_account_cannot_sign"))
            : plainError(err));
    }
  };
  return html`<main class="login-page">
    <div class="login-card">
      <p class="brand brand-dark" aria-hidden="true">co<span>hub</span></p>
      ${expired
        ? html`<h1>${w("console.your_sign_in_has")}</h1>
          <p class="lead" data-testid="login-expired">${w("console.for_your_security_cohub")}</p>`
        : html`<h1>${w("console.sign_in")}</h1><p class="lead">${w("console.meet_your_customers_in")}</p>`}
      <${SSOButton} />
      <form onSubmit=${submit} novalidate>
        <${Field} id="login-email" label=${w("console.email")}>
          ${(p) => html`<input ...${p} type="email" autocomplete="username" data-testid="login-email" value=${email}
            onInput=${(e) => setEmail(e.currentTarget.value)} />`}
        <//>
        <${Field} id="login-password" label=${w("console.password")}>
          ${(p) => html`<input ...${p} type="password" autocomplete="current-password" data-testid="login-password" value=${password}
            onInput=${(e) => setPassword(e.currentTarget.value)} />`}
        <//>
        ${error && html`<p class="notice notice-bad" role="alert" data-testid="login-error">${error}</p>`}
        <button type="submit" class="btn btn-primary btn-block" data-testid="login-submit" disabled=${busy}>${busy ? w("console.signing_in") : w("console.sign_in")}</button>
      </form>
    </div>
  </main>`;
}

// The frame -----------------------------------------------------------------

function Header({ onNew }) {
  const a = me.value;
  const team = teamName(a.team_id);
  return html`<header class="top">
    <a class="brand" href="#/" aria-label=${w("console.cohub_home")}>co<span>hub</span></a>
    <div class="top-actions">
      <button type="button" class="btn btn-primary" data-testid="start-session" onClick=${() => onNew("start")}><${Icon} name="plus" /> ${w("console.start")}<span class="wide-only"> ${w("console.session")}</span></button>
      <button type="button" class="btn btn-ghost" data-testid="preplan-session" onClick=${() => onNew("preplan")}>${w("console.pre_plan")}<span class="wide-only"> ${w("console.session")}</span></button>
      ${a.role === "admin" && html`<a class=${cx("btn", "btn-ghost", route.value.name === "admin" && "btn-current")} href="#/admin/settings"
        data-testid="admin-link">${w("console.admin")}</a>`}
    </div>
    <div class="who">
      <span class="who-text"><strong data-testid="me-name">${a.name}</strong>${team && html` · ${team}`} · ${ROLE[a.role] || a.role}</span>
      <${Menu} label=${html`<span class="avatar" aria-hidden="true">${initials(a.name)}</span><span class="sr-only">${w("console.account")}</span>`}
        btnCls="btn-avatar" testid="account-menu" cls="menu-right">
        ${(close) => html`
          <div class="menu-who"><strong>${a.name}</strong><span>${[team, ROLE[a.role] || a.role].filter(Boolean).join(" · ")}</span><span>${a.email}</span></div>
          <div class="menu-sep" role="separator"></div>
          <${MenuItem} testid="sign-out" label=${w("console.sign_out")} onClick=${() => { close(); signOut(false); }} />
          <${MenuItem} testid="sign-out-all" label=${w("console.sign_out_everywhere")} note=${w("console.ends_your_sign_in")}
            onClick=${() => { close(); signOut(true); }} />`}
      <//>
    </div>
  </header>`;
}

function OfflineBanner() {
  const c = conn.value;
  const [, tick] = useState(0);
  useEffect(() => {
    if (c.state !== "down") { return undefined; }
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [c.state]);
  if (c.state !== "down") { return null; }
  const secs = Math.max(0, Math.ceil((c.retryAt - Date.now()) / 1000));
  return html`<div class="offline" role="status" data-testid="offline-banner">
    <${Icon} name="wifiOff" /> ${w("console.connection_lost")} ${secs > 0 ? w("console.trying_again_in_s", { secs }) : w("console.reconnecting")}
    <button type="button" class="link-btn" onClick=${() => live && live.retryNow()}>${w("console.try_now")}</button>
  </div>`;
}

function Lost() {
  return html`<main class="login-page"><div class="login-card" role="alert">
    <h1>${w("console.your_access_changed")}</h1>
    <p class="lead">${lost.value === "access"
      ? w("console.you_may_no_longer")
      : w("console.the_live_connection_closed")}</p>
    <button type="button" class="btn btn-primary" onClick=${() => location.reload()}>${w("console.reload")}</button>
  </div></main>`;
}

function Console() {
  const [newMode, setNewMode] = useState(null);
  const r = route.value;
  const a = me.value;
  useEffect(() => { leaveRoomsBut(r.name === "room" ? r.id : ""); }, [r.name, r.id]);
  useEffect(() => {
    // Rows catch what no live frame says (a customer who left while no
    // room was open, a supervisor's end) within this period.
    const t = setInterval(() => { if (document.visibilityState === "visible") { refreshHistory(); } }, 20000);
    return () => clearInterval(t);
  }, []);
  const admin = r.name === "admin" && a.role === "admin";
  return html`<div class="app">
    <a class="skip" href="#main" data-testid="skip-link" onClick=${skipToMain}>${w("console.skip_to_the_room")}</a>
    <${Header} onNew=${setNewMode} />
    <${OfflineBanner} />
    <div class=${cx("layout", hist.open.value && !admin && "with-history")}>
      ${!admin && html`<div class="history-rail">
        <div class="rail-head"><${HistoryToggle} />${hist.open.value && html`<span class="rail-title" aria-hidden="true">${w("console.history")}</span>`}</div>
        <${HistoryPanel} />
      </div>`}
      <main id="main" class="main" tabindex="-1">
        ${admin ? html`<${AdminView} />` : r.name === "room" ? html`<${RoomView} key=${r.id} id=${r.id} />` : html`<${Home} />`}
      </main>
    </div>
    ${newMode && html`<${NewSession} mode=${newMode} onClose=${() => setNewMode(null)} />`}
    <${Notice} />
  </div>`;
}

// skipToMain moves focus to the room: the routes live in the hash, so
// the link must not navigate.
function skipToMain(e) {
  e.preventDefault();
  const main = document.getElementById("main");
  if (main) { main.focus(); }
}

function App() {
  switch (auth.value) {
  case "checking": return html`<main class="login-page"><p class="muted">${w("console.opening_cohub")}</p></main>`;
  case "signed-out": return html`<${Login} />`;
  case "expired": return html`<${Login} expired=${true} />`;
  case "unreachable": return html`<main class="login-page"><div class="login-card" role="alert"><h1>${w("console.cohub_cannot_be_reached")}</h1>
    <p class="lead">${w("console.check_your_connection_then")}</p>
    <button type="button" class="btn btn-primary" onClick=${boot}>${w("console.try_again")}</button></div></main>`;
  }
  if (lost.value) { return html`<${Lost} />`; }
  return html`<${Console} />`;
}

render(html`<${App} />`, document.getElementById("app"));
boot();
