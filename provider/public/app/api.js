// The phone API client (API.md §3). The device token lives in localStorage so the person
// stays signed in across reloads; a 401 anywhere but /login means it no longer works.

const TOKEN_KEY = 'saoma.token';
const USER_KEY = 'saoma.user';

export class ApiError extends Error {
  constructor(status, code, description) {
    super(description || code);
    this.status = status;
    this.code = code;
  }
}

const read = (key) => {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
};
const write = (key, value) => {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // storage disabled: the session lasts this page only
  }
};

export const session = {
  token: () => read(TOKEN_KEY),
  /** The last user /me returned: lets the shell greet the person while offline. */
  user: () => {
    try {
      return JSON.parse(read(USER_KEY) ?? 'null');
    } catch {
      return null;
    }
  },
  save(token, user) {
    if (token) write(TOKEN_KEY, token);
    if (user) write(USER_KEY, JSON.stringify(user));
  },
  clear() {
    write(TOKEN_KEY, null);
    write(USER_KEY, null);
    write('saoma.appNames', null); // names.js: what this account looked at stays with it
  },
};

// The server's clock, as far as its Date header tells (1 s resolution): countdowns compare
// the server's expiresAt with this, so a phone whose clock is off still counts right.
let clockOffset = 0;
export const serverNow = () => Date.now() + clockOffset;
function learnClock(res) {
  const server = Date.parse(res.headers.get('date') ?? '');
  if (Number.isNaN(server)) return;
  const offset = server - Date.now();
  clockOffset = Math.abs(offset) > 5_000 ? offset : 0; // below that, the header's rounding is the bigger error
}

/** @type {(err: ApiError) => void} */
let onSignedOut = () => {};
export const whenSignedOut = (fn) => {
  onSignedOut = fn;
};

/** One call: JSON in, JSON out; errors become ApiError with the documented `error` code. */
export async function api(method, path, body) {
  const token = session.token();
  let res;
  try {
    res = await fetch(`/api/mobile${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network_error', 'network');
  }
  learnClock(res);
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new ApiError(res.status, data.error ?? 'error', data.error_description ?? res.statusText);
    // Only a device token that stopped working signs the phone out; a refused passkey or
    // assertion is a 401 too, with its own code.
    if (res.status === 401 && data.error === 'invalid_token' && token) {
      session.clear();
      onSignedOut(err);
    }
    throw err;
  }
  return data;
}
