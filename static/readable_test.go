package static_test

import (
	"strings"
)

// lowContrastJS lists the visible text on the page whose contrast with
// its background is under WCAG AA: 4.5:1, or 3:1 for large text (24 px,
// or 18.66 px bold). The background is the element's and its ancestors'
// colours laid over white; opacity of ancestors dims the text. Disabled
// controls are exempt (as WCAG says); text over an image is not judged.
const lowContrastJS = `(() => {
  const parse = (c) => { const m = /rgba?\(([^)]+)\)/.exec(c); if (!m) { return null; }
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
  const over = (top, under) => ({ r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1 });
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const backdrop = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) { chain.push(e); }
    let c = { r: 255, g: 255, b: 255, a: 1 }, alpha = 1;
    for (const e of chain.reverse()) {
      const s = getComputedStyle(e);
      if (s.backgroundImage !== "none" && !s.backgroundImage.startsWith("linear-gradient")) { return null; }
      const b = parse(s.backgroundColor);
      if (b && b.a > 0) { c = over(b, c); }
      alpha *= parseFloat(s.opacity);
    }
    return { c, alpha };
  };
  const bad = [], seen = new Set();
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (!walk.currentNode.textContent.trim() || seen.has(el)) { continue; }
    seen.add(el);
    if (el.closest("[disabled], [aria-disabled='true'], .sr-only, [aria-hidden='true'], svg, option")) { continue; }
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === "hidden") { continue; }
    const fg = parse(s.color), bd = backdrop(el);
    if (!fg || !bd) { continue; }
    const text = over({ ...fg, a: fg.a * bd.alpha }, bd.c);
    const l1 = lum(text), l2 = lum(bd.c);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) {
      bad.push(ratio.toFixed(2) + " < " + need + ": \"" + el.textContent.trim().slice(0, 40) + "\" (" + s.color + " on rgb(" +
        [bd.c.r, bd.c.g, bd.c.b].map(Math.round).join(",") + "), ." + String(el.className).split(" ")[0] + ")");
    }
  }
  return bad.join("\n");
})()`

// readable fails the test with every text of the page under WCAG AA
// contrast and every visible control without a name.
func (b tab) readable(what string) {
	b.t.Helper()
	if bad := b.js(lowContrastJS); bad != "" {
		b.t.Errorf("%s: %s: text under WCAG AA contrast:\n%s", b.name, what, strings.TrimSpace(bad))
	}
	if bad := b.js(unlabelledJS); bad != "" {
		b.t.Errorf("%s: %s: controls without a name:\n%s", b.name, what, strings.TrimSpace(bad))
	}
	if bad := b.js(headingsJS); bad != "" {
		b.t.Errorf("%s: %s: heading levels skip:\n%s", b.name, what, strings.TrimSpace(bad))
	}
	if bad := b.js(sidewaysJS); bad != "" {
		b.t.Errorf("%s: %s: the page scrolls sideways:\n%s", b.name, what, strings.TrimSpace(bad))
	}
}

// headingsJS lists the visible headings that go more than one level
// deeper than the one before (an h1 then an h3): a screen reader's
// outline then misses a level.
const headingsJS = `(() => {
  let last = 0;
  const bad = [];
  for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    if (!h.getClientRects().length) { continue; }
    const level = Number(h.tagName[1]);
    if (last && level > last + 1) { bad.push("h" + last + " then h" + level + ": " + h.textContent.trim().slice(0, 60)); }
    last = level;
  }
  return bad.join("\n");
})()`

// sidewaysJS says when a panel scrolls sideways (but what is meant to,
// marked data-scrolls: a zoomed page), or the document is wider than the
// viewport, and which elements reach past its right edge (the widest
// first).
const sidewaysJS = `(() => {
  const vw = document.documentElement.clientWidth;
  const boxes = [];
  for (const el of document.querySelectorAll("body *")) {
    const ox = getComputedStyle(el).overflowX;
    if ((ox === "auto" || ox === "scroll") && el.scrollWidth > el.clientWidth + 1 && !el.closest("[data-scrolls]")) {
      boxes.push(el.tagName.toLowerCase() + "." + String(el.className).split(" ").join(".") + " holds " + el.scrollWidth + "px in " + el.clientWidth + "px");
    }
  }
  if (boxes.length) { return "a panel scrolls sideways: " + boxes.slice(0, 5).join("; "); }
  if (document.documentElement.scrollWidth <= vw) { return ""; }
  const over = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > vw + 1 && r.width > 0) {
      over.push([r.right, el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && el.className.baseVal === undefined ? "." + String(el.className).split(" ").join(".") : "") + " " + Math.round(r.width) + "px"]);
    }
  }
  over.sort((a, b) => b[0] - a[0]);
  return "document " + document.documentElement.scrollWidth + "px, viewport " + vw + "px: " + over.slice(0, 5).map((o) => o[1]).join("; ");
})()`

// unlabelledJS lists the visible controls a screen reader would announce
// without a name: no aria-label or aria-labelledby, no label, no text and
// no title.
const unlabelledJS = `(() => {
  const named = (el) => {
    if ((el.getAttribute("aria-label") || "").trim()) { return true; }
    const by = el.getAttribute("aria-labelledby");
    if (by && by.split(/\s+/).some((id) => { const l = document.getElementById(id); return l && l.textContent.trim(); })) { return true; }
    if (el.labels && Array.from(el.labels).some((l) => l.textContent.trim())) { return true; }
    if (["BUTTON", "A", "SUMMARY"].includes(el.tagName) && el.textContent.trim()) { return true; }
    if (el.tagName === "INPUT" && ["submit", "button"].includes(el.type) && el.value.trim()) { return true; }
    return !!(el.getAttribute("title") || "").trim();
  };
  const bad = [];
  for (const el of document.querySelectorAll("button, a[href], input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]:not([tabindex='-1'])")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || el.closest("[aria-hidden='true']")) { continue; }
    if (["DIV", "SECTION", "OL", "UL", "LI", "ASIDE", "MAIN", "ARTICLE", "P"].includes(el.tagName) && !el.getAttribute("role")) { continue; }
    if (!named(el)) { bad.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.dataset.testid ? "[" + el.dataset.testid + "]" : "") + " " + el.outerHTML.slice(0, 80)); }
  }
  return bad.join("\n");
})()`
