// The agent API: JSON over fetch with the session cookie. Every call that
// changes something carries the CSRF token the login returned; a 401 means
// the session is over, and the app is told so it can ask for a new login
// without throwing away what the agent was typing.

import { t } from "./i18n.js";

let csrf = null;
let onExpired = () => {};
// Counts sign-ins: a request sent before the latest one that comes back 401
// speaks of the old session, not of the new one.
let session = 0;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || "HTTP " + status);
    this.status = status;
    this.code = code;
  }
}

export function setCsrf(token) {
  csrf = token;
}

export function whenExpired(callback) {
  onExpired = callback;
}

async function call(method, path, body, { raw = false, contentType } = {}) {
  const sentIn = session;
  const headers = {};
  if (method !== "GET") headers["X-CSRF-Token"] = csrf || "";
  let payload;
  if (raw) {
    payload = body;
    headers["Content-Type"] = contentType || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, "network", t("The gateway cannot be reached"));
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!response.ok) {
    const error = (data && data.error) || {};
    const message = typeof error === "string" ? error : error.message;
    const code = typeof error === "object" ? error.code : undefined;
    if (response.status === 401 && path !== "/api/v1/auth/login" && sentIn === session) onExpired();
    throw new ApiError(response.status, code, message || response.statusText);
  }
  return data;
}

export const api = {
  get: (path) => call("GET", path),
  post: (path, body) => call("POST", path, body === undefined ? {} : body),
  put: (path, body) => call("PUT", path, body),
  del: (path) => call("DELETE", path),
  upload: (file) =>
    call("POST", "/api/v1/uploads?name=" + encodeURIComponent(file.name || "file"), file, {
      raw: true,
      contentType: file.type,
    }),
};

export async function login(username, password) {
  const data = await call("POST", "/api/v1/auth/login", { username, password });
  session += 1;
  setCsrf(data.csrf_token);
  return data.agent;
}

/** The signed-in agent, or null when there is no valid session. */
export async function currentAgent() {
  try {
    const data = await call("GET", "/api/v1/me");
    setCsrf(data.csrf_token);
    return data.agent;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}
