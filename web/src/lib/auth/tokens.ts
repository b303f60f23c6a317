// The session's JWTs. The access token (15 minutes) lives in memory only; the refresh token is
// also kept in sessionStorage so a reload of the same tab stays signed in, while closing the tab
// (or the browser) ends the session: clinical workstations are shared, so nothing survives in
// localStorage. The strict Content-Security-Policy (no inline or third-party script) is what
// guards sessionStorage against script injection. The API rotates refresh tokens and blacklists
// the old one, so every refresh goes through one in-flight promise: two 401s at once must not
// spend the same refresh token twice.

const REFRESH_KEY = "cdss.refresh";
const REFRESH_URL = "/api/v1/auth/token/refresh/";

export interface TokenPair {
  access: string;
  refresh: string;
}

type Listener = () => void;

let access: string | null = null;
let refreshing: Promise<string | null> | null = null;
const listeners = new Set<Listener>();

function storage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.sessionStorage;
  } catch {
    return null; // storage disabled: the session lasts as long as the page
  }
}

function notify(): void {
  for (const listener of listeners) listener();
}

export function getAccessToken(): string | null {
  return access;
}

export function getRefreshToken(): string | null {
  return storage()?.getItem(REFRESH_KEY) ?? null;
}

export function setTokens(pair: TokenPair): void {
  access = pair.access;
  storage()?.setItem(REFRESH_KEY, pair.refresh);
  notify();
}

export function clearTokens(): void {
  const had = access !== null || getRefreshToken() !== null;
  access = null;
  storage()?.removeItem(REFRESH_KEY);
  if (had) notify();
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Trades the stored refresh token for a new pair; null (and signed out) when that fails. */
export function refreshAccessToken(): Promise<string | null> {
  if (refreshing) return refreshing;
  const refresh = getRefreshToken();
  if (!refresh) {
    clearTokens();
    return Promise.resolve(null);
  }
  refreshing = (async () => {
    try {
      const response = await globalThis.fetch(new URL(REFRESH_URL, window.location.origin), {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refresh }),
      });
      if (!response.ok) {
        clearTokens();
        return null;
      }
      const pair = (await response.json()) as TokenPair;
      setTokens(pair);
      return pair.access;
    } catch {
      // The network failed, not the token: keep it for the next try.
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}
