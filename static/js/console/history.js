// The history panel: scopes, the Updated sessions section with its live
// count, the completed / incomplete filter, contact search, and rows that
// follow the cache (so they change the moment a room or the inbox does).
import { html, useEffect, useRef, Icon, IndicatorIcon, cx, now, rove } from "../ui.js";
import { STATES, SESSION_STATE, ago, when, customerName, contactOf, indicatorWords } from "../words.js";
import { signal } from "../../vendor/signals.js";
import { hist, me, cache, route, narrow, scopesFor, scopeKey, reloadHistory, loadMore, loadUpdated } from "./state.js";
import { w, wn } from "./catalog.js";

const SCOPE_LABEL = { mine: w("history.my_history"), team: w("history.my_team"), all: w("history.all") };

function persistOpen(open) {
  hist.open.value = open;
  localStorage.setItem("cohub.history", open ? "open" : "closed");
}

export function HistoryToggle() {
  const open = hist.open.value;
  return html`<button type="button" class="icon-btn history-toggle" data-testid="history-toggle"
    aria-expanded=${open ? "true" : "false"} aria-controls="history"
    aria-label=${open ? w("history.hide_history") : w("history.show_history")} title=${open ? w("history.hide_history") : w("history.show_history")}
    onClick=${() => persistOpen(!open)}>
    <${Icon} name=${open ? "chevronLeft" : "chevronRight"} /><${Icon} name=${open ? "chevronLeft" : "chevronRight"} cls="icon-second" />
  </button>`;
}

// closeIfOverlay hides the history once a session is picked where it
// covers the room (below 768 px); the preference is kept.
function closeIfOverlay() {
  if (narrow()) { hist.open.value = false; }
}

function Row({ id, current, stop }) {
  now.value; // re-render as time passes
  const s = cache.value.get(id);
  if (!s) { return null; }
  const ind = s.indicator || { state: "never_joined" };
  const label = indicatorWords(ind).label;
  const contact = contactOf(s.customer);
  const a = me.value;
  const other = a && s.agent_id !== a.id;
  return html`<li>
    <a class=${cx("row", current && "row-current", s.updated && !other && "row-updated")} href=${"#/s/" + encodeURIComponent(id)}
      data-testid="history-item" data-id=${id} data-state=${s.state} data-indicator=${ind.state}
      aria-current=${current ? "page" : undefined} tabindex=${stop ? "0" : "-1"} onClick=${closeIfOverlay}>
      <span class="row-ind" title=${label}><${IndicatorIcon} state=${ind.state} tasks=${ind.tasks} /><span class="sr-only">${label}.</span></span>
      <span class="row-main">
        <span class="row-top">
          <span class="row-name">${customerName(s.customer)}</span>
          ${s.updated && !other && html`<span class="dot-new" title=${w("history.new_activity")}><span class="sr-only">${w("history.new_activity_b")}</span></span>`}
          ${s.unread > 0 && !other && html`<span class="count count-unread" data-testid="unread-count"
            title=${unreadWords(s.unread)}><span aria-hidden="true">${s.unread}</span><span class="sr-only">${unreadWords(s.unread)}.</span></span>`}
          <time class="row-time" datetime=${s.updated_at} title=${when(s.updated_at)}>${ago(s.updated_at, now.value)}</time>
        </span>
        <span class="row-bottom">
          <span class="row-contact">${s.customer && s.customer.name ? contact : label}</span>
          <span class=${cx("badge", "badge-" + s.state)}>${SESSION_STATE[s.state] || s.state}</span>
        </span>
      </span>
    </a>
  </li>`;
}

function unreadWords(n) { return wn("history.unread", n); }

let searchTimer;

// A list of rows is one stop of the Tab key (the arrows move within it):
// the stop is the row last moved to, else the open session, else the first.
const rowStop = signal("");

function stopOf(ids, current) {
  return ids.includes(rowStop.value) ? rowStop.value : ids.includes(current) ? current : ids[0];
}

function roveRows(e) { rove(e, "a.row", (a) => { rowStop.value = a.dataset.id; }); }

function Rows({ ids, current, testid, keyPrefix = "" }) {
  const stop = stopOf(ids, current);
  return html`<ul class="rows" data-testid=${testid} aria-busy=${testid === "history-list" && hist.loading.value ? "true" : "false"}
    onKeyDown=${roveRows}>
    ${ids.map((id) => html`<${Row} key=${keyPrefix + id} id=${id} current=${id === current} stop=${id === stop} />`)}
  </ul>`;
}

export function HistoryPanel() {
  const a = me.value;
  const scopes = scopesFor(a);
  const sentinel = useRef(null);
  const current = route.value.name === "room" ? route.value.id : "";

  useEffect(() => {
    reloadHistory();
    loadUpdated();
  }, []);

  // Infinite scroll: the sentinel at the list's end asks for the next page.
  useEffect(() => {
    if (!sentinel.current || !("IntersectionObserver" in window)) { return undefined; }
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) { loadMore(); }
    }, { rootMargin: "200px" });
    io.observe(sentinel.current);
    return () => io.disconnect();
  }, [sentinel.current, hist.open.value]);

  if (!hist.open.value) { return null; }

  const setScope = (s) => {
    hist.scope.value = s;
    localStorage.setItem(scopeKey(a), s);
    reloadHistory();
  };
  const setFilter = (e) => { hist.filter.value = e.currentTarget.value; reloadHistory(); };
  const search = (e) => {
    hist.q.value = e.currentTarget.value;
    clearTimeout(searchTimer);
    searchTimer = setTimeout(reloadHistory, 300);
  };
  const updated = hist.updated.value.filter((id) => cache.value.has(id));
  const ids = hist.ids.value;
  return html`<aside class="history" id="history" aria-label=${w("history.history")}>
    <div class="history-controls">
      ${scopes.length > 1 && html`<div class="seg" role="group" aria-label=${w("history.whose_sessions")} data-testid="history-scope"
        onKeyDown=${(e) => rove(e, "button")}>
        ${scopes.map((s) => html`<button type="button" key=${s} data-scope=${s} aria-pressed=${hist.scope.value === s ? "true" : "false"}
          tabindex=${hist.scope.value === s ? "0" : "-1"} onClick=${() => setScope(s)}>${SCOPE_LABEL[s]}</button>`)}
      </div>`}
      <div class="history-tools">
        <div class="search">
          <label class="sr-only" for="history-search">${w("history.search_for_contact")}</label>
          <${Icon} name="search" />
          <input id="history-search" type="search" placeholder=${w("history.search_contacts")} data-testid="history-search"
            value=${hist.q.value} onInput=${search} autocomplete="off" />
        </div>
        <label class="sr-only" for="history-filter">${w("history.show")}</label>
        <select id="history-filter" data-testid="history-filter" value=${hist.filter.value} onChange=${setFilter}>
          <option value="all">${w("history.all")}</option>
          <option value="completed">${w("history.completed")}</option>
          <option value="incomplete">${w("history.incomplete")}</option>
        </select>
      </div>
    </div>
    <div class="history-lists">
      <section aria-labelledby="updated-h" class="history-section">
        <h2 id="updated-h" class="section-title">${w("history.updated_sessions")}
          <span class=${cx("count", updated.length === 0 && "count-zero")} data-testid="updated-count"
            aria-label=${updated.length + " updated"}>${updated.length}</span></h2>
        ${updated.length === 0
          ? html`<p class="history-empty">${w("history.nothing_new_from_your")}</p>`
          : html`<${Rows} ids=${updated} current=${current} testid="updated-list" keyPrefix="u" />`}
      </section>
      <section aria-labelledby="all-h" class="history-section">
        <h2 id="all-h" class="section-title">${SCOPE_LABEL[hist.scope.value] === w("history.all") ? w("history.all_sessions") : SCOPE_LABEL[hist.scope.value]}</h2>
        ${hist.error.value && html`<p class="history-empty error-text" role="alert">${hist.error.value}
          <button type="button" class="link-btn" onClick=${reloadHistory}>${w("history.try_again")}</button></p>`}
        ${!hist.error.value && ids.length === 0 && !hist.loading.value && html`<p class="history-empty">
          ${hist.q.value ? w("history.no_session_matches_this") : w("history.no_sessions_yet_start")}</p>`}
        <${Rows} ids=${ids} current=${current} testid="history-list" />
        <div ref=${sentinel} class="sentinel">
          ${hist.loading.value && html`<span class="history-empty">${w("history.loading")}</span>`}
          ${!hist.loading.value && !hist.done.value && ids.length > 0 && html`<button type="button" class="link-btn" onClick=${loadMore}>${w("history.load_more")}</button>`}
        </div>
      </section>
    </div>
    <details class="legend">
      <summary>${w("history.what_the_customer_icons")}</summary>
      <ul>
        ${Object.entries(STATES).map(([k, v]) => html`<li key=${k}><${IndicatorIcon} state=${k} /> ${v.label}: ${v.hint}</li>`)}
        <li><${IndicatorIcon} state="online_incomplete" tasks=${0} /> ${w("history.online_or_offline_alone")}</li>
        <li><${IndicatorIcon} state="never_joined" /> ${w("history.at_the_pin_code")}</li>
      </ul>
    </details>
  </aside>`;
}
