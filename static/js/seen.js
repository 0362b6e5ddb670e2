// Read receipts (docs/DESIGN.md §6, "Read receipts"), the page's half:
// what counts as read is a message scrolled into view while the page is
// visible. The live connection sends it on (Live.read: only rises, at
// most one op a second per room).
import { useEffect } from "./ui.js";

// useReadWatch watches the log's messages (elements with data-seq) and
// calls report(seq) with the highest one on screen, when it shows and
// when the page comes back into view. A message counts once half of it
// (or half the log, for one taller than that) is in view.
export function useReadWatch(log, report, deps) {
  useEffect(() => {
    const root = log.current;
    if (!root || typeof IntersectionObserver === "undefined") { return undefined; }
    const shown = new Set();
    const tell = () => {
      if (document.visibilityState === "visible" && shown.size) { report(Math.max(...shown)); }
    };
    const io = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const seq = Number(e.target.dataset.seq);
        const half = e.intersectionRatio >= 0.5 || (e.rootBounds && e.intersectionRect.height >= e.rootBounds.height / 2);
        if (e.isIntersecting && half) { shown.add(seq); } else { shown.delete(seq); }
      }
      tell();
    }, { root, threshold: [0, 0.5, 1] });
    for (const el of root.querySelectorAll("[data-seq]")) { io.observe(el); }
    document.addEventListener("visibilitychange", tell);
    return () => {
      io.disconnect();
      document.removeEventListener("visibilitychange", tell);
    };
  }, deps);
}

// lastRead is the seq of the last message of a side (mine(item) says
// which) that a horizon covers: where "Seen" goes.
export function lastRead(items, mine, horizon) {
  let at = 0;
  for (const it of items) {
    if (it.seq && it.seq <= horizon && mine(it)) { at = it.seq; }
  }
  return at;
}
