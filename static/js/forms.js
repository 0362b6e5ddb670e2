// A form task's answers checked in the browser with the rules the server
// applies again (rooms/forms.go, checkAnswer): one definition, the task's
// fields, read by both.

const dateRe = /^\d{4}-\d{2}-\d{2}$/;
const phoneRe = /^\+?[0-9][0-9 ().-]{5,30}$/;
const emailRe = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+\.[^\s@<>(),;:"[\]\\]+$/;

// checkAnswer returns what is wrong with one answer, as the catalog key
// of its words and their values ({ key: "form.min", vars: { min: 3 } }),
// or null.
export function checkAnswer(d, v) {
  const bad = (key, vars) => ({ key: "form." + key, vars });
  if (d.type === "checkbox") {
    return d.required && v !== true ? bad("tick") : null;
  }
  const s = (v == null ? "" : String(v)).trim();
  if (s === "") { return d.required ? bad("required") : null; }
  if ([...s].length > 1000) { return bad("too_long"); }
  switch (d.type) {
  case "email":
    if (!emailRe.test(s)) { return bad("email"); }
    break;
  case "phone":
    if (!phoneRe.test(s)) { return bad("phone"); }
    break;
  case "number": {
    const n = Number(s);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) || !Number.isFinite(n)) { return bad("number"); }
    if (d.min !== undefined && d.min !== "" && n < Number(d.min)) { return bad("min", { min: d.min }); }
    if (d.max !== undefined && d.max !== "" && n > Number(d.max)) { return bad("max", { max: d.max }); }
    break;
  }
  case "date":
    if (!dateRe.test(s) || Number.isNaN(Date.parse(s + "T00:00:00Z"))) { return bad("date"); }
    if (d.min && s < d.min) { return bad("after", { min: d.min }); }
    if (d.max && s > d.max) { return bad("before", { max: d.max }); }
    break;
  case "select":
    if (!(d.options || []).includes(s)) { return bad("choice"); }
    break;
  }
  if (d.pattern && !new RegExp("^(?:" + d.pattern + ")$", "u").test(s)) { return bad("format"); }
  return null;
}

// checkForm returns {name: problem} for every field with one.
export function checkForm(fields, answers) {
  const out = {};
  for (const d of fields || []) {
    const msg = checkAnswer(d, answers[d.name]);
    if (msg) { out[d.name] = msg; }
  }
  return out;
}

// answersOf are the answers to send: text trimmed, checkboxes true/false.
export function answersOf(fields, values) {
  const out = {};
  for (const d of fields || []) {
    out[d.name] = d.type === "checkbox" ? values[d.name] === true : String(values[d.name] == null ? "" : values[d.name]).trim();
  }
  return out;
}
