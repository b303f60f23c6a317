// The session as React sees it: signed in or not (from the token store), who is signed in
// (/api/v1/auth/me/), restoring a session after a reload, and logging out.
import { useQuery, type QueryClient } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";

import { api, unwrap } from "@/lib/api/client";
import type { components } from "@/lib/api/schema";

import { clearTokens, getAccessToken, getRefreshToken, refreshAccessToken, subscribe } from "./tokens";

export type CurrentUser = components["schemas"]["UserOutput"];

export type SessionState = "signed-in" | "restorable" | "signed-out";

function snapshot(): SessionState {
  if (getAccessToken()) return "signed-in";
  return getRefreshToken() ? "restorable" : "signed-out";
}

export function useSessionState(): SessionState {
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

/** After a reload only the refresh token is left: trade it for an access token. */
export function restoreSession(): Promise<string | null> {
  return refreshAccessToken();
}

export const meQueryKey = ["auth", "me"] as const;

export function useCurrentUser(enabled = true) {
  return useQuery({
    queryKey: meQueryKey,
    queryFn: () => unwrap(api.GET("/api/v1/auth/me/")),
    enabled,
    staleTime: 5 * 60_000,
  });
}

/**
 * Logs out: the API ends every token of the user (all devices); whatever it answers, this tab
 * forgets its tokens and every cached answer.
 */
export async function logout(queryClient: QueryClient): Promise<void> {
  try {
    await api.POST("/api/v1/auth/logout/", { body: {} });
  } catch {
    // Offline: the tokens are forgotten here anyway and expire on their own.
  }
  clearTokens();
  queryClient.clear();
}
