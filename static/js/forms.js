// A form task's answers checked in the browser with the rules the server
// applies again (rooms/forms.go, checkAnswer): one definition, the task's
// fields, read by both.

const dateRe = /^\d{4}-\d{2}-\d{2}$/;
const phoneRe = /^\+?[0-9][0-9 ().-]{5,30}$/;
const emailRe = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+\.[^\s@<>(),;:"[\]\\]+$/;

// checkAnswer returns what is wrong with one answer, or "".
export function checkAnswer(d, v) {
  if (d.type === "checkbox") {
    return d.required && v !== true ? "must be ticked" : "";
  }
  const s = (v == null ? "" : String(v)).trim();
  if (s === "") { return d.required ? "is required" : ""; }
  if ([...s].length > 1000) { return "must be at most 1000 characters, without control characters"; }
  switch (d.type) {
  case "email":
    if (!emailRe.test(s)) { return "must be an email address such as jane@example.com"; }
    break;
  case "phone":
    if (!phoneRe.test(s)) { return "must be a phone number such as +44 20 7946 0958"; }
    break;
  case "number": {
    const n = Number(s);
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) || !Number.isFinite(n)) { return "must be a number"; }
    if (d.min !== undefined && d.min !== "" && n < Number(d.min)) { return "must be at least " + d.min; }
    if (d.max !== undefined && d.max !== "" && n > Number(d.max)) { return "must be at most " + d.max; }
    break;
  }
  case "date":
    if (!dateRe.test(s) || Number.isNaN(Date.parse(s + "T00:00:00Z"))) { return "must be a date as YYYY-MM-DD"; }
    if (d.min && s < d.min) { return "must be on or after " + d.min; }
    if (d.max && s > d.max) { return "must be on or before " + d.max; }
    break;
  case "select":
    if (!(d.options || []).includes(s)) { return "must be one of the choices"; }
    break;
  }
  if (d.pattern && !new RegExp("^(?:" + d.pattern + ")$", "u").test(s)) { return "is not in the expected format"; }
  return "";
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
