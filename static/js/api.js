// JSON over HTTP with the API's one error shape (docs/DESIGN.md §5).
// Agents use the login cookie (so every change carries the browser's
// Origin); customers send their link as "Authorization: Link …" and the
// gates' customer token travels as an HttpOnly cookie.

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || (status === 0 ? "network error" : "request failed"));
    this.status = status;
    this.code = e.code || (status === 0 ? "network" : "internal");
    this.fields = e.fields || {};
  }
}

// request answers the parsed body of a 2xx reply, or throws an ApiError
// (status 0: the network failed).
export async function request(method, path, body, headers = {}) {
  const h = { ...headers };
  if (body !== undefined) { h["Content-Type"] = "application/json"; }
  return answer(fetch(path, {
    method, credentials: "same-origin", headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
  }));
}

// answer reads a pending reply like request (null: the network failed).
export async function answer(pending) {
  let r;
  try {
    r = await pending;
  } catch (e) {
    r = null;
  }
  if (!r) { throw new ApiError(0, null); }
  let data = null;
  try { data = await r.json(); } catch (e) { /* an empty or non-JSON answer */ }
  if (!r.ok) { throw new ApiError(r.status, data); }
  return data;
}

// agentApi calls the agent API; a 401 on anything but login means the
// login is gone, and onSignedOut is told.
export const agentApi = {
  onSignedOut: null,
  async call(method, path, body) {
    try {
      return await request(method, path, body);
    } catch (e) {
      if (e.status === 401 && path !== "/api/login" && this.onSignedOut) { this.onSignedOut(); }
      throw e;
    }
  },
  get(path) { return this.call("GET", path); },
  post(path, body) { return this.call("POST", path, body === undefined ? {} : body); },
  put(path, body) { return this.call("PUT", path, body); },
  del(path) { return this.call("DELETE", path); },
  // upload posts one file as the multipart part "file".
  async upload(path, file) {
    const form = new FormData();
    form.append("file", file, file.name);
    let r;
    try {
      r = await fetch(path, { method: "POST", credentials: "same-origin", body: form });
    } catch (e) {
      throw new ApiError(0, null);
    }
    let data = null;
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) {
      if (r.status === 401 && this.onSignedOut) { this.onSignedOut(); }
      throw new ApiError(r.status, data);
    }
    return data;
  },
};

// customerApi calls the customer API with the link token.
export function customerApi(link) {
  const headers = { Authorization: "Link " + link };
  return {
    get(path) { return request("GET", path, undefined, headers); },
    post(path, body) { return request("POST", path, body === undefined ? {} : body, headers); },
  };
}
