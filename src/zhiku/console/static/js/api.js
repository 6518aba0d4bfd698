// The public HTTP API, as an integrator calls it: bearer token, JSON, server-sent events.
const TOKEN = "zhiku.token";

export class ApiError extends Error {
  constructor(status, type, message, details = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.details = details;
  }
}

export const auth = {
  get token() { return localStorage.getItem(TOKEN) || ""; },
  set token(v) { v ? localStorage.setItem(TOKEN, v) : localStorage.removeItem(TOKEN); },
};

function headers(extra = {}) {
  const h = { ...extra };
  if (auth.token) h.Authorization = `Bearer ${auth.token}`;
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

export async function api(method, path, body) {
  const init = { method, headers: headers() };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "network_error", String(e.message || e));
  }
  if (!resp.ok) throw await failure(resp);
  const type = resp.headers.get("content-type") || "";
  return type.includes("json") ? resp.json() : resp.text();
}

// Server-sent events over fetch (EventSource cannot send an Authorization header).
export async function stream(method, path, body, onEvent, signal) {
  const init = { method, headers: headers({ Accept: "text/event-stream" }), signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "network_error", String(e.message || e));
  }
  if (!resp.ok) throw await failure(resp);
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trimStart();
      }
      let parsed = data;
      try { parsed = JSON.parse(data); } catch { /* plain text */ }
      if (event === "error") throw new ApiError(500, parsed.type || "error", parsed.message || data);
      onEvent(event, parsed);
    }
  }
}

// Upload with byte progress (fetch has no upload progress; XMLHttpRequest does).
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    if (auth.token) xhr.setRequestHeader("Authorization", `Bearer ${auth.token}`);
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
