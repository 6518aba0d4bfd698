// The public HTTP API, as an integrator calls it: JSON, server-sent events. A signed-in person's
// session lives in an HttpOnly cookie that scripts cannot read; requests that change something
// send the CSRF token from the readable zhiku_csrf cookie. A pasted API key is kept in memory
// only (never in storage), so it is gone when the page reloads.
import { readEvents } from "./sse.js";

let apiKey = "";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

// How long a request may wait for the server's answer, and when a page calls a load slow;
// a page may set window.zhikuLimits before the console loads to change them.
export const limits = { timeoutMs: 30000, slowMs: 4000, ...(globalThis.zhikuLimits || {}) };

// The signed-in principal's permission level decides which controls the pages show.
const LEVELS = { read: 1, write: 2, admin: 3, owner: 4 };
let level = 0;
export function setPrincipal(me) { level = me ? LEVELS[me.level] || 1 : 0; }
// can("write"): whether the caller may do what needs that level (read, write, admin, owner).
export function can(need) { return level >= (LEVELS[need] || 99); }

export class ApiError extends Error {
  constructor(status, type, message, details = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.details = details;
  }
}

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)zhiku_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export const auth = {
  get token() { return apiKey; },
  set token(v) { apiKey = v || ""; },
  // a cookie session may exist (its CSRF cookie does); /v1/auth/me tells whether it is valid
  get cookieSession() { return csrfToken() !== ""; },
};

export function headers(method = "GET", extra = {}) {
  const h = { ...extra };
  if (apiKey) h.Authorization = `Bearer ${apiKey}`;
  else if (!SAFE.has(method.toUpperCase()) && csrfToken()) h["X-CSRF-Token"] = csrfToken();
  return h;
}

async function failure(resp) {
  if (resp.status === 401) window.dispatchEvent(new Event("zhiku:unauthorized"));
  let type = "http_error", message = `${resp.status} ${resp.statusText}`, details = {};
  try {
    const body = await resp.json();
    if (body && body.error) {
      details = body.error;
      type = body.error.type || type;
      message = body.error.message || message;
      if (Array.isArray(body.error.errors) && body.error.errors.length) {
        message += ": " + body.error.errors.map((e) => `${(e.loc || []).slice(1).join(".")} ${e.msg}`).join("; ");
      }
    }
  } catch { /* not JSON */ }
  return new ApiError(resp.status, type, message, details);
}

// fetch, aborted when the server has not answered within limits.timeoutMs (a hung server must
// not leave a page waiting forever); the caller's own signal still cancels it.
async function send(path, init, signal) {
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; ctl.abort(); }, limits.timeoutMs);
  if (signal) signal.addEventListener("abort", () => ctl.abort(), { once: true });
  try {
    return await fetch(path, { ...init, signal: ctl.signal });
  } catch (e) {
    if (timedOut) throw new ApiError(0, "timeout", `no answer from the server within ${limits.timeoutMs / 1000} s`);
    if (signal && signal.aborted) throw e;
    throw new ApiError(0, "network_error", String(e.message || e));
  } finally {
    clearTimeout(timer);
  }
}

export async function api(method, path, body) {
  const init = { method, headers: headers(method) };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await send(path, init);
  if (!resp.ok) throw await failure(resp);
  const type = resp.headers.get("content-type") || "";
  return type.includes("json") ? resp.json() : resp.text();
}

// Server-sent events over fetch (EventSource cannot send an Authorization or CSRF header).
export async function stream(method, path, body, onEvent, signal) {
  const init = { method, headers: headers(method, { Accept: "text/event-stream" }) };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await send(path, init, signal);
  if (!resp.ok) throw await failure(resp);
  await readEvents(resp, (event, parsed, data) => {
    if (event === "error") throw new ApiError(500, parsed.type || "error", parsed.message || data);
    onEvent(event, parsed);
  });
}

// Upload with byte progress (fetch has no upload progress; XMLHttpRequest does).
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [name, value] of Object.entries(headers("POST"))) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0, "network_error", "the upload failed"));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        const err = (body && body.error) || {};
        reject(new ApiError(xhr.status, err.type || "http_error", err.message || `${xhr.status} ${xhr.statusText}`));
      }
    };
    xhr.send(form);
  });
}

// A GET of a list that the server pages: the items, and the X-Total-Count header's number.
export async function apiPage(path) {
  let resp;
  try {
    resp = await fetch(path, { method: "GET", headers: headers("GET") });
  } catch (e) {
    throw new ApiError(0, "network_error", String(e.message || e));
  }
  if (!resp.ok) throw await failure(resp);
  const items = await resp.json();
  const total = Number(resp.headers.get("X-Total-Count"));
  return { items, total: Number.isFinite(total) && resp.headers.has("X-Total-Count") ? total : items.length };
}
