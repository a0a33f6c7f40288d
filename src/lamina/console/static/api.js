// Calls to the console API (/console/api/): every error comes back with AWS's code and message.

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(`/console/api/${path}`, init);
  let data = {};
  try {
    data = await res.json();
  } catch {
    data = { message: `HTTP ${res.status}` };
  }
  if (res.status === 401 && data.__type === "SignInRequired") window.dispatchEvent(new CustomEvent("lamina-sign-in"));
  if (!res.ok) throw new ApiError(data.__type || `HTTP ${res.status}`, data.message || data.Message || "", res.status);
  return data;
}

export function call(service, operation, params = {}) {
  return api(`call/${service}/${operation}`, { method: "POST", body: params });
}

export const fn = (name) => `functions/${encodeURIComponent(name)}`;
