// The one API client: openapi-fetch typed by the generated schema (schema.d.ts, `npm run
// gen:api`), over authFetch, which adds the access token and, on a 401, refreshes it once and
// retries. Downloads and uploads go through authFetch / authorizedXhr too.
import createClient from "openapi-fetch";

import { getAccessToken, refreshAccessToken } from "@/lib/auth/tokens";

import { apiErrorFrom, NetworkError } from "./errors";
import type { paths } from "./schema";

export function apiOrigin(): string {
  return typeof window === "undefined" ? "http://localhost" : window.location.origin;
}

function withToken(request: Request, token: string | null): Request {
  const next = new Request(request);
  if (token) next.headers.set("Authorization", `Bearer ${token}`);
  return next;
}

// The routes that take no access token: a 401 there is the answer, not an expired token.
const NO_REFRESH = ["/api/v1/auth/token/", "/api/v1/auth/token/refresh/"];

/** fetch with the session's access token; a 401 refreshes the token once and retries. */
export async function authFetch(input: Request | string, init?: RequestInit): Promise<Response> {
  const request = typeof input === "string" ? new Request(new URL(input, apiOrigin()), init) : input;
  const retry = request.clone();
  let response: Response;
  try {
    response = await globalThis.fetch(withToken(request, getAccessToken()));
  } catch (error) {
    throw new NetworkError(error);
  }
  if (response.status !== 401 || NO_REFRESH.includes(new URL(request.url).pathname)) return response;
  const token = await refreshAccessToken();
  if (!token) return response;
  try {
    return await globalThis.fetch(withToken(retry, token));
  } catch (error) {
    throw new NetworkError(error);
  }
}

export const api = createClient<paths>({
  baseUrl: apiOrigin(),
  fetch: (request) => authFetch(request),
  headers: { Accept: "application/json" },
});

/**
 * The data of an openapi-fetch call, or an ApiError carrying the API's message.
 * `await unwrap(api.GET("/api/v1/patients/"))`.
 */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw apiErrorFrom(response.status, error);
  return data as T;
}
