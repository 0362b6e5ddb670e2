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

const ROLE = { agent: "Agent", supervisor: "Supervisor", admin: "Admin" };

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
  case "unauthenticated": return "Single sign-on did not complete, or took too long. Try again.";
  case "forbidden": return "This account is disabled. Ask your administrator to turn it back on.";
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
    <a class="btn btn-block" href="/api/sso/start" data-testid="sso-start">Sign in with ${sso.name}</a>
    <p class="sso-or" aria-hidden="true">or with your password</p>
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
      setError("Enter your email and your password.");
      return;
    }
    setBusy(true);
    try {
      await agentApi.post("/api/login", { email: email.trim(), password });
      stopLive();
      await enter();
    } catch (err) {
      setBusy(false);
      setError(err.code === "unauthenticated" ? "That email and password do not match an account. Check them and try again."
        : err.code === "rate_limited" ? "Too many tries. Wait a minute, then try again."
          : err.code === "password_sign_in_off" ? plainError(err)
          : err.code === "forbidden" ? (/disabled/.test(err.message || "") ? "This account is disabled. Ask your administrator to turn it back on."
            : "This account cannot sign in. Ask your administrator.")
            : plainError(err));
    }
  };
  return html`<main class="login-page">
    <div class="login-card">
      <p class="brand brand-dark" aria-hidden="true">co<span>hub</span></p>
      ${expired
        ? html`<h1>Your sign-in has ended</h1>
          <p class="lead" data-testid="login-expired">For your security, Cohub signs you out after a while, or when you sign out elsewhere. Sign in again to carry on where you were.</p>`
        : html`<h1>Sign in</h1><p class="lead">Meet your customers in a secure room.</p>`}
      <${SSOButton} />
      <form onSubmit=${submit} novalidate>
        <${Field} id="login-email" label="Email">
          ${(p) => html`<input ...${p} type="email" autocomplete="username" data-testid="login-email" value=${email}
            onInput=${(e) => setEmail(e.currentTarget.value)} />`}
        <//>
        <${Field} id="login-password" label="Password">
          ${(p) => html`<input ...${p} type="password" autocomplete="current-password" data-testid="login-password" value=${password}
            onInput=${(e) => setPassword(e.currentTarget.value)} />`}
        <//>
        ${error && html`<p class="notice notice-bad" role="alert" data-testid="login-error">${error}</p>`}
        <button type="submit" class="btn btn-primary btn-block" data-testid="login-submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
      </form>
    </div>
  </main>`;
}

// The frame -----------------------------------------------------------------

function Header({ onNew }) {
  const a = me.value;
  const team = teamName(a.team_id);
  return html`<header class="top">
    <a class="brand" href="#/" aria-label="Cohub, home">co<span>hub</span></a>
    <div class="top-actions">
      <button type="button" class="btn btn-primary" data-testid="start-session" onClick=${() => onNew("start")}><${Icon} name="plus" /> Start<span class="wide-only"> session</span></button>
      <button type="button" class="btn btn-ghost" data-testid="preplan-session" onClick=${() => onNew("preplan")}>Pre-plan<span class="wide-only"> session</span></button>
      ${a.role === "admin" && html`<a class=${cx("btn", "btn-ghost", route.value.name === "admin" && "btn-current")} href="#/admin/settings"
        data-testid="admin-link">Admin</a>`}
    </div>
    <div class="who">
      <span class="who-text"><strong data-testid="me-name">${a.name}</strong>${team && html` · ${team}`} · ${ROLE[a.role] || a.role}</span>
      <${Menu} label=${html`<span class="avatar" aria-hidden="true">${initials(a.name)}</span><span class="sr-only">Account</span>`}
        btnCls="btn-avatar" testid="account-menu" cls="menu-right">
        ${(close) => html`
          <div class="menu-who"><strong>${a.name}</strong><span>${[team, ROLE[a.role] || a.role].filter(Boolean).join(" · ")}</span><span>${a.email}</span></div>
          <div class="menu-sep" role="separator"></div>
          <${MenuItem} testid="sign-out" label="Sign out" onClick=${() => { close(); signOut(false); }} />
          <${MenuItem} testid="sign-out-all" label="Sign out everywhere" note="Ends your sign-in on every browser"
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
    <${Icon} name="wifiOff" /> Connection lost. ${secs > 0 ? `Trying again in ${secs} s…` : "Reconnecting…"}
    <button type="button" class="link-btn" onClick=${() => live && live.retryNow()}>Try now</button>
  </div>`;
}

function Lost() {
  return html`<main class="login-page"><div class="login-card" role="alert">
    <h1>Your access changed</h1>
    <p class="lead">${lost.value === "access"
      ? "You may no longer open a session you had open: your role or team changed. Reload to carry on with what you may see."
      : "The live connection closed for good. Reload to carry on."}</p>
    <button type="button" class="btn btn-primary" onClick=${() => location.reload()}>Reload</button>
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
    <a class="skip" href="#main" data-testid="skip-link" onClick=${skipToMain}>Skip to the room</a>
    <${Header} onNew=${setNewMode} />
    <${OfflineBanner} />
    <div class=${cx("layout", hist.open.value && !admin && "with-history")}>
      ${!admin && html`<div class="history-rail">
        <div class="rail-head"><${HistoryToggle} />${hist.open.value && html`<span class="rail-title" aria-hidden="true">History</span>`}</div>
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
  case "checking": return html`<main class="login-page"><p class="muted">Opening Cohub…</p></main>`;
  case "signed-out": return html`<${Login} />`;
  case "expired": return html`<${Login} expired=${true} />`;
  case "unreachable": return html`<main class="login-page"><div class="login-card" role="alert"><h1>Cohub cannot be reached</h1>
    <p class="lead">Check your connection, then try again.</p>
    <button type="button" class="btn btn-primary" onClick=${boot}>Try again</button></div></main>`;
  }
  if (lost.value) { return html`<${Lost} />`; }
  return html`<${Console} />`;
}

render(html`<${App} />`, document.getElementById("app"));
boot();
