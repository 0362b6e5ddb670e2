// The customer's page asks for its session as it starts, while the rest
// of its code is still on its way: a phone on a slow network saves a
// round trip. customer.js takes the answer once (window.cohubFirst); a
// failed request is null, and customer.js asks again.
window.cohubFirst = fetch("/api/customer/session", {
  credentials: "same-origin",
  headers: { Authorization: "Link " + decodeURIComponent(location.pathname.replace(/^\/c\//, "").replace(/\/+$/, "")) },
}).catch(() => null);
