import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import { getAccessToken, getRefreshToken, setTokens } from "@/lib/auth/tokens";
import { server } from "@/test/server";

import { api, authFetch, unwrap } from "./client";
import { ApiError, errorMessage, NetworkError } from "./errors";

const t = (key: string) => `t:${key}`;

describe("authFetch", () => {
  it("sends the access token", async () => {
    setTokens({ access: "A1", refresh: "R1" });
    let seen: string | null = null;
    server.use(
      http.get("*/api/v1/auth/me/", ({ request }) => {
        seen = request.headers.get("Authorization");
        return HttpResponse.json({ id: 1 });
      }),
    );
    await authFetch("/api/v1/auth/me/");
    expect(seen).toBe("Bearer A1");
  });

  it("refreshes once on a 401 and retries, even for two calls at once", async () => {
    setTokens({ access: "old", refresh: "R1" });
    let refreshes = 0;
    server.use(
      http.post("*/api/v1/auth/token/refresh/", async ({ request }) => {
        refreshes += 1;
        expect(await request.json()).toEqual({ refresh: "R1" });
        return HttpResponse.json({ access: "new", refresh: "R2" });
      }),
      http.get("*/api/v1/patients/", ({ request }) =>
        request.headers.get("Authorization") === "Bearer new"
          ? HttpResponse.json({ count: 0, results: [] })
          : HttpResponse.json({ error: "Token expired", detail: {} }, { status: 401 }),
      ),
    );
    const [a, b] = await Promise.all([authFetch("/api/v1/patients/"), authFetch("/api/v1/patients/")]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(refreshes).toBe(1);
    expect(getAccessToken()).toBe("new");
    expect(getRefreshToken()).toBe("R2");
  });

  it("signs out when the refresh token is refused", async () => {
    setTokens({ access: "old", refresh: "R1" });
    server.use(
      http.post("*/api/v1/auth/token/refresh/", () =>
        HttpResponse.json({ error: "Token is blacklisted", detail: {} }, { status: 401 }),
      ),
      http.get("*/api/v1/patients/", () => HttpResponse.json({ error: "expired", detail: {} }, { status: 401 })),
    );
    const response = await authFetch("/api/v1/patients/");
    expect(response.status).toBe(401);
    expect(getAccessToken()).toBeNull();
    expect(getRefreshToken()).toBeNull();
  });

  it("does not try to refresh a failed login", async () => {
    let refreshed = false;
    server.use(
      http.post("*/api/v1/auth/token/refresh/", () => {
        refreshed = true;
        return HttpResponse.json({});
      }),
      http.post("*/api/v1/auth/token/", () =>
        HttpResponse.json({ error: "No active account with these credentials.", detail: {} }, { status: 401 }),
      ),
    );
    const error = await unwrap(api.POST("/api/v1/auth/token/", { body: { username: "x", password: "y" } })).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe("No active account with these credentials.");
    expect(refreshed).toBe(false);
  });

  it("turns a network failure into a NetworkError", async () => {
    server.use(http.get("*/api/v1/auth/me/", () => HttpResponse.error()));
    await expect(authFetch("/api/v1/auth/me/")).rejects.toBeInstanceOf(NetworkError);
  });
});

describe("errorMessage", () => {
  it("shows the API's own message", () => {
    expect(errorMessage(new ApiError(400, "Invalid input: mrn: This field is required."), t)).toBe(
      "Invalid input: mrn: This field is required.",
    );
  });

  it("falls back to a translated message by status", () => {
    expect(errorMessage(new ApiError(403, ""), t)).toBe("t:errors.forbidden");
    expect(errorMessage(new ApiError(502, ""), t)).toBe("t:errors.server");
    expect(errorMessage(new NetworkError(), t)).toBe("t:errors.network");
    expect(errorMessage("?", t)).toBe("t:errors.unknown");
  });

  it("keeps a server error's request id", async () => {
    server.use(
      http.get("*/api/v1/auth/me/", () =>
        HttpResponse.json({ error: "Internal server error.", detail: {}, request_id: "abc123" }, { status: 500 }),
      ),
    );
    const error = await unwrap(api.GET("/api/v1/auth/me/")).catch((e) => e);
    expect(error).toMatchObject({ status: 500, message: "Internal server error.", requestId: "abc123" });
  });
});
