// The JSON API: the session cookie travels by itself; the CSRF token lives only in memory.
let csrfToken;
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setCsrfToken(token) { csrfToken = token; }
export function whenUnauthorized(handler) { onUnauthorized = handler; }

/** Query values may be arrays (sent comma-separated); empty values are left out. */
export function queryString(params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) { for (const v of value) if (v !== '') search.append(key, v); } else search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

async function request(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `网络错误 / network error: ${error.message}`);
  }
  if (response.status === 204) return undefined;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401 && path !== '/api/session') onUnauthorized();
    throw new ApiError(response.status, data.code ?? 'HTTP', data.message ?? `HTTP ${response.status}`);
  }
  return data;
}

export const api = {
  get: (path, params) => request('GET', `${path}${queryString(params)}`),
  post: (path, body = {}) => request('POST', path, body),
  patch: (path, body) => request('PATCH', path, body),
  put: (path, body) => request('PUT', path, body),
  delete: (path) => request('DELETE', path),
};

/** A route that is not there (yet) answers 404 with SW_ERR_ROUTE_NOT_FOUND-like codes. */
export function isMissingRoute(error) {
  return error instanceof ApiError && error.status === 404 && /ROUTE/.test(error.code);
}
