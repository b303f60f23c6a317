import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { describe, expect, it, vi } from "vitest";

import { getAccessToken, getRefreshToken } from "@/lib/auth/tokens";
import { renderWithProviders } from "@/test/render";
import { server } from "@/test/server";

import { LoginForm } from "./LoginForm";

describe("LoginForm", () => {
  it("keeps the tokens and reports success", async () => {
    server.use(http.post("*/api/v1/auth/token/", () => HttpResponse.json({ access: "A", refresh: "R" })));
    const onSuccess = vi.fn();
    renderWithProviders(<LoginForm onSuccess={onSuccess} />);
    await userEvent.type(screen.getByLabelText(/^Username/, { selector: "input" }), "doctor");
    await userEvent.type(screen.getByLabelText(/^Password/, { selector: "input" }), "secret");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    await waitFor(() => expect(onSuccess).toHaveBeenCalled());
    expect(getAccessToken()).toBe("A");
    expect(getRefreshToken()).toBe("R");
    expect(window.localStorage.getItem("cdss.refresh")).toBeNull();
  });

  it("shows the API's message when it refuses", async () => {
    server.use(
      http.post("*/api/v1/auth/token/", () =>
        HttpResponse.json({ error: "Too many failed logins; try again later.", detail: {} }, { status: 429 }),
      ),
    );
    renderWithProviders(<LoginForm onSuccess={() => {}} />);
    await userEvent.type(screen.getByLabelText(/^Username/, { selector: "input" }), "doctor");
    await userEvent.type(screen.getByLabelText(/^Password/, { selector: "input" }), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByText("Too many failed logins; try again later.")).toBeInTheDocument();
    expect(getAccessToken()).toBeNull();
  });
});
