// App names this phone has seen (confirm screens, authorization lists), so "my recent logins"
// can name an app after its authorization was revoked: the activity API returns only appIds.
const KEY = 'saoma.appNames';
const LIMIT = 200;

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? '{}') ?? {};
  } catch {
    return {};
  }
}

export function rememberAppNames(entries) {
  const names = load();
  for (const [appId, name] of entries) if (appId && typeof name === 'string') names[appId] = name;
  const kept = Object.entries(names).slice(-LIMIT);
  try {
    localStorage.setItem(KEY, JSON.stringify(Object.fromEntries(kept)));
  } catch {
    // storage full or disabled: names fall back to app ids
  }
}

export const appName = (appId) => load()[appId] ?? null;
