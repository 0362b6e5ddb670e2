// Shared view pieces for both pages: htm bound to Preact, icons, the
// indicator, form fields, dialogs, menus and a polite announcer. Nothing
// here writes HTML strings: every text goes through Preact as a text node.
import { h, render } from "../vendor/preact.js";
import { useState, useEffect, useRef, useMemo, useLayoutEffect } from "../vendor/hooks.js";
import { signal, batch } from "../vendor/signals.js";
import htm from "../vendor/htm.js";
import { STATES, AUTH, CONSENT, clock, when, indicatorWords } from "./words.js";
import { w } from "./console/catalog.js";

export const html = htm.bind(h);
export { h, render, useState, useEffect, useRef, useMemo, useLayoutEffect };
export { signal, batch };

// now ticks every 20 s so relative times ("2 min ago") stay true.
export const now = signal(Date.now());
setInterval(() => { now.value = Date.now(); }, 20000);

// cx joins class names, skipping falsy ones.
export function cx(...names) {
  return names.filter(Boolean).join(" ");
}

// Icons ---------------------------------------------------------------

const ICONS = {
  pencil: () => html`<path d="M4 13.8 4.7 11l6.6-6.6 2.3 2.3L7 13.3z" /><path d="M10.3 5.4l2.3 2.3" />`,
  check: () => html`<path d="M4.2 9.4l3 3 6.6-6.8" />`,
  download: () => html`<path d="M9 3v8M5.5 7.8 9 11.3l3.5-3.5M4 14.5h10" />`,
  camera: () => html`<path d="M3 6.5h2.5L7 4.5h4l1.5 2H15v7.5H3z" /><circle cx="9" cy="10" r="2.3" />`,
  file: () => html`<path d="M5 2.5h5.5L13.5 5.5v10h-8.5z" /><path d="M10.5 2.5v3h3" />`,
  x: () => html`<path d="M5 5l8 8M13 5l-8 8" />`,
  chevronLeft: () => html`<path d="M11 4 6 9l5 5" />`,
  chevronRight: () => html`<path d="M7 4l5 5-5 5" />`,
  chevronDown: () => html`<path d="M4 7l5 5 5-5" />`,
  plus: () => html`<path d="M9 3.5v11M3.5 9h11" />`,
  minus: () => html`<path d="M3.5 9h11" />`,
  link: () => html`<path d="M7.6 10.4a3 3 0 0 0 4.2 0l2.4-2.4a3 3 0 0 0-4.2-4.2l-1 1" /><path d="M10.4 7.6a3 3 0 0 0-4.2 0L3.8 10a3 3 0 0 0 4.2 4.2l1-1" />`,
  copy: () => html`<rect x="6" y="6" width="8.5" height="8.5" rx="1.5" /><path d="M3.5 11.5V5a1.5 1.5 0 0 1 1.5-1.5h6.5" />`,
  search: () => html`<circle cx="8" cy="8" r="4.6" /><path d="M11.4 11.4 15 15" />`,
  send: () => html`<path d="M3 9h9M8.5 4.5 13 9l-4.5 4.5" />`,
  lock: () => html`<rect x="4" y="8" width="10" height="7" rx="1.5" /><path d="M6.5 8V6a2.5 2.5 0 0 1 5 0v2" />`,
  alert: () => html`<path d="M9 3 16 15H2z" /><path d="M9 7.5v3.5M9 13v.2" />`,
  wifiOff: () => html`<path d="M3 3l12 12" /><path d="M2.5 7.5a9 9 0 0 1 4-2.1M15.5 7.5a9 9 0 0 0-5.3-2.4M5 10.2a5.5 5.5 0 0 1 3-1.5M13 10.2a5.5 5.5 0 0 0-1.4-1" /><path d="M9 13.5v.2" />`,
  user: () => html`<circle cx="9" cy="6.5" r="3" /><path d="M3.5 15a5.5 5.5 0 0 1 11 0" />`,
  refresh: () => html`<path d="M14.5 9a5.5 5.5 0 1 1-1.6-3.9" /><path d="M14.5 3.5v3h-3" />`,
  trash: () => html`<path d="M4 5.5h10M7.5 5.5V4h3v1.5M5.5 5.5l.6 9h5.8l.6-9" />`,
  clock: () => html`<circle cx="9" cy="9" r="6" /><path d="M9 5.5V9l2.5 1.5" />`,
};

// rove moves the focus among a group's items with the arrow keys, Home
// and End, so a long group (the history's rows) is one stop of the Tab
// key, not one per item. Items are what selector finds in the group; the
// one moved to is passed to onMove, which makes it the group's stop.
export function rove(e, selector, onMove) {
  const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[e.key];
  if (step === undefined && e.key !== "Home" && e.key !== "End") { return; }
  const items = [...e.currentTarget.querySelectorAll(selector)];
  const i = items.indexOf(document.activeElement);
  if (i < 0 || items.length === 0) { return; }
  e.preventDefault();
  const j = e.key === "Home" ? 0 : e.key === "End" ? items.length - 1 : Math.max(0, Math.min(items.length - 1, i + step));
  if (onMove) { onMove(items[j]); }
  items[j].focus();
}

export function Icon({ name, cls }) {
  return html`<svg class=${cx("icon", cls)} viewBox="0 0 18 18" aria-hidden="true" focusable="false"
    fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round">${ICONS[name]()}</svg>`;
}

// The five-state indicator ---------------------------------------------

// IndicatorIcon draws a state so that shape, not only colour, tells them
// apart: a dashed ring (never joined), a filled disc (online) or a ring
// (offline), with a pencil (tasks to do) or a check (done).
export function IndicatorIcon({ state, cls, tasks }) {
  const s = STATES[state] ? state : "never_joined";
  const online = s.startsWith("online");
  const glyph = s.endsWith("completed") ? "check" : s === "never_joined" || tasks === 0 ? null : "pencil";
  return html`<svg class=${cx("ind-icon", "ind-" + s, cls)} viewBox="0 0 20 20" aria-hidden="true" focusable="false">
    ${s === "never_joined"
      ? html`<circle class="ind-ring" cx="10" cy="10" r="8" fill="none" stroke-width="2" stroke-dasharray="3.2 2.6" />`
      : online
        ? html`<circle class="ind-disc" cx="10" cy="10" r="9" />`
        : html`<circle class="ind-ring" cx="10" cy="10" r="8.1" fill="none" stroke-width="1.8" />`}
    ${glyph && html`<g class="ind-glyph" transform="translate(1 1)" fill="none" stroke-width="1.8"
      stroke-linecap="round" stroke-linejoin="round">${ICONS[glyph]()}</g>`}
  </svg>`;
}

// authWords says where authentication stands, with the lock's end.
export function authWords(ind, method) {
  if (!ind) { return ""; }
  if (ind.authentication === "locked") {
    if (ind.locked_until) { return w("ui.locked_until", { clock: clock(ind.locked_until) }); }
    return "locked_until" in ind ? w("ui.locked_until_an_agent") : AUTH.locked;
  }
  const base = AUTH[ind.authentication] || ind.authentication;
  if (ind.authentication === "verified" && method && method !== "none") {
    return `${base} (${method === "pin" ? "PIN" : w("ui.one_time_code")})`;
  }
  return base;
}

// IndicatorCard is the hover and focus card: authentication, consent,
// last seen while offline, and the page's own facts (extra: [term,
// words] pairs, such as where reminders stand).
export function IndicatorCard({ ind, method, id, extra = [] }) {
  const offline = ind.joined && !ind.online;
  return html`<div class="ind-card" role="tooltip" id=${id}>
    <dl>
      <dt>${w("ui.authentication")}</dt><dd>${authWords(ind, method)}</dd>
      <dt>${w("ui.consent")}</dt><dd>${CONSENT[ind.consent] || ind.consent}</dd>
      ${offline && html`<dt>${w("ui.last_seen")}</dt><dd>${ind.last_seen_at ? when(ind.last_seen_at) : w("ui.not_known")}</dd>`}
      ${ind.state === "never_joined" && html`<dt>${w("ui.joined")}</dt><dd>${ind.opened ? w("ui.not_yet", { indicator_words: indicatorWords(ind, method).label.toLowerCase() }) : w("ui.not_yet_the_link")}</dd>`}
      ${ind.online && html`<dt>${w("ui.now")}</dt><dd>${w("ui.in_the_room")}</dd>`}
      ${extra.map(([term, words]) => html`<dt>${term}</dt><dd>${words}</dd>`)}
    </dl>
  </div>`;
}

// IndicatorPill is the room's indicator: icon and words, with its card
// on hover and keyboard focus.
export function IndicatorPill({ ind, method, testid = "indicator", extra }) {
  if (!ind) { return null; }
  const cardID = "ind-card";
  return html`<div class="ind-wrap">
    <button type="button" class=${cx("ind-pill", "ind-" + ind.state)} data-testid=${testid} data-state=${ind.state}
      aria-describedby=${cardID}>
      <${IndicatorIcon} state=${ind.state} tasks=${ind.tasks} />
      <span class="ind-label" data-testid="indicator-label">${indicatorWords(ind, method).label}</span>
      ${ind.authentication === "locked" && html`<span class="ind-flag"><${Icon} name="lock" /> ${w("ui.locked")}</span>`}
    </button>
    <${IndicatorCard} ind=${ind} method=${method} id=${cardID} extra=${extra} />
  </div>`;
}

// Forms -----------------------------------------------------------------

// Field is a labelled control with its hint and its error next to it; the
// control is given the ids to point at (aria-describedby) by render prop.
export function Field({ id, label, hint, error, children, optional, cls }) {
  const describedBy = [hint && id + "-hint", error && id + "-err"].filter(Boolean).join(" ") || undefined;
  return html`<div class=${cx("field", error && "field-bad", cls)}>
    <label for=${id}>${label}${optional && html` <span class="optional">${w("ui.optional")}</span>`}</label>
    ${children({ id, "aria-describedby": describedBy, "aria-invalid": error ? "true" : undefined })}
    ${hint && html`<p class="hint" id=${id + "-hint"}>${hint}</p>`}
    ${error && html`<p class="field-error" id=${id + "-err"}><${Icon} name="alert" /> ${error}</p>`}
  </div>`;
}

// Dialog is a native modal <dialog>: focus stays inside, Escape closes,
// and focus goes back where it was.
export function Dialog({ title, onClose, children, cls, testid, describedBy }) {
  const ref = useRef(null);
  const titleID = useMemo(() => "dlg-" + Math.random().toString(36).slice(2), []);
  useEffect(() => {
    const d = ref.current;
    const before = document.activeElement;
    if (!d.open) { d.showModal(); }
    // Start where the work is: the first field, else the first action
    // (the safe one comes first), not the close button.
    const start = d.querySelector("[autofocus], input:not([type=hidden]):not([disabled]), select, textarea") ||
      d.querySelector(".dialog-actions button");
    if (start) { start.focus(); }
    const cancel = (e) => { e.preventDefault(); onClose(); };
    d.addEventListener("cancel", cancel);
    return () => {
      d.removeEventListener("cancel", cancel);
      if (before && before.focus && document.contains(before)) { before.focus(); }
    };
  }, []);
  return html`<dialog ref=${ref} class=${cx("dialog", cls)} aria-labelledby=${titleID} aria-describedby=${describedBy}
    data-testid=${testid}>
    <div class="dialog-head">
      <h2 id=${titleID}>${title}</h2>
      <button type="button" class="icon-btn" aria-label=${w("ui.close")} onClick=${onClose}><${Icon} name="x" /></button>
    </div>
    ${children}
  </dialog>`;
}

// Menu is a button that opens a list of actions: arrows move, Escape
// closes and gives focus back to the button.
export function Menu({ label, testid, children, cls, btnCls }) {
  const [open, setOpen] = useState(false);
  const wrap = useRef(null);
  const button = useRef(null);
  const panelID = useMemo(() => "menu-" + Math.random().toString(36).slice(2), []);
  useEffect(() => {
    if (!open) { return undefined; }
    const outside = (e) => { if (wrap.current && !wrap.current.contains(e.target)) { setOpen(false); } };
    document.addEventListener("mousedown", outside);
    const first = wrap.current.querySelector("[role=menuitem]:not([aria-disabled=true])");
    if (first) { first.focus(); }
    return () => document.removeEventListener("mousedown", outside);
  }, [open]);
  const onKey = (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      setOpen(false);
      button.current.focus();
      return;
    }
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const items = [...wrap.current.querySelectorAll("[role=menuitem]")];
      const i = items.indexOf(document.activeElement);
      const next = items[(i + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length];
      if (next) { next.focus(); }
    }
  };
  const close = () => { setOpen(false); button.current.focus(); };
  return html`<div class=${cx("menu", cls)} ref=${wrap} onKeyDown=${onKey}>
    <button type="button" ref=${button} class=${cx("btn", btnCls || "btn-primary")} aria-haspopup="true"
      aria-expanded=${open ? "true" : "false"} aria-controls=${panelID} data-testid=${testid}
      onClick=${() => setOpen(!open)}>${label} <${Icon} name="chevronDown" /></button>
    ${open && html`<div class="menu-panel" id=${panelID} role="menu" aria-label=${typeof label === "string" ? label : undefined}>
      ${children(close)}
    </div>`}
  </div>`;
}

// MenuItem is an action in a Menu; a disabled one stays readable and
// focusable and says why.
export function MenuItem({ label, note, disabled, danger, onClick, testid }) {
  const noteID = useMemo(() => "mi-" + Math.random().toString(36).slice(2), []);
  return html`<button type="button" role="menuitem" class=${cx("menu-item", danger && "danger")}
    aria-disabled=${disabled ? "true" : "false"} aria-describedby=${note ? noteID : undefined} data-testid=${testid}
    onClick=${(e) => { if (!disabled) { onClick(e); } }}>
    <span class="menu-label">${label}</span>
    ${note && html`<span class="menu-note" id=${noteID}>${note}</span>`}
  </button>`;
}

// Announcer ---------------------------------------------------------------

export const notice = signal(null); // {text, kind}
let noticeTimer;

// announce shows a short confirmation and reads it to screen readers.
export function announce(text, kind = "ok") {
  clearTimeout(noticeTimer);
  notice.value = { text, kind, at: Date.now() };
  noticeTimer = setTimeout(() => { notice.value = null; }, 5000);
}

export function Notice() {
  const n = notice.value;
  return html`<div class="toast-region" role="status" aria-live="polite">
    ${n && html`<div class=${cx("toast", "toast-" + n.kind)} key=${n.at}>${n.text}</div>`}
  </div>`;
}

// copyText copies to the clipboard, with the old selection route when the
// Clipboard API is not allowed (a non-secure origin, a denied permission).
export async function copyText(text, input) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (e) { /* fall back below */ }
  try {
    if (input) {
      input.focus();
      input.select();
      return document.execCommand("copy");
    }
  } catch (e) { /* nothing left to try */ }
  return false;
}

// Spinner is a progress hint that respects reduced motion (CSS).
export function Spinner({ label = w("ui.loading") }) {
  return html`<span class="spinner" role="img" aria-label=${label}></span>`;
}
