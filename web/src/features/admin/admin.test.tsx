import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { afterEach, describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "@/test/render";
import { server } from "@/test/server";

import { auditQuery, dayBoundary, emptyAuditFilters, idOrUndefined } from "./api/audit";
import type { ManagedUser } from "./api/users";
import { AuditPage } from "./routes/AuditPage";
import { UsersPage } from "./routes/UsersPage";

const me = { id: 1, username: "boss", email: "", first_name: "", last_name: "", role: "admin", last_login: null };

const user = (id: number, username: string, extra: Partial<ManagedUser> = {}): ManagedUser => ({
  id,
  username,
  email: `${username}@example.org`,
  first_name: "",
  last_name: "",
  role: "clinician",
  is_active: true,
  last_login: null,
  date_joined: "2026-11-01T09:00:00Z",
  ...extra,
});

const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });

afterEach(() => vi.restoreAllMocks());

describe("UsersPage", () => {
  it("refuses a clinician without asking for the list", async () => {
    let asked = false;
    server.use(
      http.get("*/api/v1/auth/me/", () => HttpResponse.json({ ...me, role: "clinician" })),
      http.get("*/api/v1/users/", () => {
        asked = true;
        return HttpResponse.json(page([]));
      }),
    );
    renderWithProviders(<UsersPage />);
    expect(await screen.findByTestId("role-refused")).toHaveTextContent("You are not allowed to do this.");
    expect(asked).toBe(false);
  });

  it("lists and filters users, and deactivates one after asking", { timeout: 20000 }, async () => {
    const queries: URLSearchParams[] = [];
    let patched: { id: string; body: unknown } | null = null;
    server.use(
      http.get("*/api/v1/auth/me/", () => HttpResponse.json(me)),
      http.get("*/api/v1/users/", ({ request }) => {
        queries.push(new URL(request.url).searchParams);
        return HttpResponse.json(page([user(1, "boss", { role: "admin" }), user(2, "dr_kim", { first_name: "Jisoo", last_name: "Kim" })]));
      }),
      http.patch("*/api/v1/users/:id/", async ({ request, params }) => {
        patched = { id: String(params.id), body: await request.json() };
        return HttpResponse.json(user(2, "dr_kim", { is_active: false }));
      }),
    );
    const confirm = vi.spyOn(window, "confirm").mockReturnValue(true);
    const ui = userEvent.setup();
    renderWithProviders(<UsersPage />);
    await waitFor(() => expect(queries.length).toBeGreaterThan(0));
    const table = await screen.findByTestId("users-table", {}, { timeout: 4000 });
    expect(within(table).getAllByText("dr_kim").length).toBeGreaterThan(0);
    expect(within(table).getAllByText(/Jisoo Kim/).length).toBeGreaterThan(0);
    // One's own account has no deactivate button.
    expect(screen.queryAllByRole("button", { name: "Deactivate boss" })).toHaveLength(0);

    await ui.click(screen.getByRole("radio", { name: "Deactivated" }));
    await waitFor(() => expect(queries.at(-1)?.get("is_active")).toBe("false"));

    await ui.click(screen.getAllByRole("button", { name: "Deactivate dr_kim" })[0]);
    expect(confirm).toHaveBeenCalledTimes(1);
    await waitFor(() => expect(patched).toEqual({ id: "2", body: { is_active: false } }));
  });

  it("creates a user and shows the API's message for a refused password", { timeout: 20000 }, async () => {
    const bodies: unknown[] = [];
    server.use(
      http.get("*/api/v1/auth/me/", () => HttpResponse.json(me)),
      http.get("*/api/v1/users/", () => HttpResponse.json(page([user(1, "boss", { role: "admin" })]))),
      http.post("*/api/v1/users/", async ({ request }) => {
        const body = (await request.json()) as Record<string, string>;
        bodies.push(body);
        if (body.password === "password1")
          return HttpResponse.json({ error: "password: This password is too common.", detail: { password: ["This password is too common."] } }, { status: 400 });
        return HttpResponse.json(user(5, body.username, { role: "ml_engineer" }), { status: 201 });
      }),
    );
    const ui = userEvent.setup();
    renderWithProviders(<UsersPage />);
    await ui.click(await screen.findByRole("button", { name: "New user" }, { timeout: 4000 }));
    const form = await screen.findByTestId("user-create-form");
    await ui.type(within(form).getByLabelText(/Username/), "eng1");
    await ui.type(within(form).getByLabelText(/^Password/), "password1");
    await ui.click(within(form).getByRole("button", { name: "Create user" }));
    expect((await within(form).findAllByText("This password is too common.")).length).toBeGreaterThan(0);
    expect(bodies[0]).toEqual({ username: "eng1", password: "password1", role: "clinician", email: "", first_name: "", last_name: "" });
  });
});

describe("audit filters", () => {
  it("sends only well-formed filters, with until through the end of its day", () => {
    expect(idOrUndefined(" 42 ")).toBe(42);
    expect(idOrUndefined("4x")).toBeUndefined();
    expect(idOrUndefined("0")).toBeUndefined();
    expect(dayBoundary("2026-13-45", false)).toBeUndefined();
    const since = dayBoundary("2026-11-27", false)!;
    const until = dayBoundary("2026-11-27", true)!;
    expect(new Date(until).getTime() - new Date(since).getTime()).toBe(24 * 3600 * 1000);
    expect(auditQuery({ ...emptyAuditFilters, user: "7", patient: "abc", action: " patient.read ", outcome: "denied", page: 3 })).toEqual({
      user: 7,
      patient: undefined,
      action: "patient.read",
      outcome: "denied",
      since: undefined,
      until: undefined,
      page: 3,
      page_size: 50,
    });
  });
});

describe("AuditPage", () => {
  it("shows events and asks again with a filter", async () => {
    const queries: URLSearchParams[] = [];
    server.use(
      http.get("*/api/v1/auth/me/", () => HttpResponse.json(me)),
      http.get("*/api/v1/audit/events/", ({ request }) => {
        queries.push(new URL(request.url).searchParams);
        return HttpResponse.json(
          page([
            {
              id: 9,
              occurred_at: "2026-11-27T10:00:00Z",
              user_id: 2,
              action: "patient.read",
              patient_id: 4,
              object_type: "patient",
              object_id: "4",
              request_id: "r1",
              ip: "10.0.0.1",
              user_agent: "x",
              outcome: "denied",
            },
          ]),
        );
      }),
    );
    const ui = userEvent.setup();
    renderWithProviders(<AuditPage />);
    const table = await screen.findByTestId("audit-table");
    expect(within(table).getAllByText("patient.read").length).toBeGreaterThan(0);
    expect(within(table).getAllByText("Denied").length).toBeGreaterThan(0);
    await ui.type(screen.getByLabelText("Patient ID"), "4");
    await waitFor(() => expect(queries.at(-1)?.get("patient")).toBe("4"), { timeout: 3000 });
    expect(queries.at(-1)?.get("page_size")).toBe("50");
  });
});
