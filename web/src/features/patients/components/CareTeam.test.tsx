import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { describe, expect, it, vi } from "vitest";

import { renderWithProviders } from "@/test/render";
import { server } from "@/test/server";

import type { Patient } from "../api/patients";
import { CareTeamList } from "./CareTeamList";
import { PatientForm } from "./PatientForm";

// The form's autosizing notes field listens for web fonts, which jsdom does not have.
if (!("fonts" in document)) {
  Object.defineProperty(document, "fonts", {
    configurable: true,
    value: { addEventListener: () => {}, removeEventListener: () => {}, ready: Promise.resolve() },
  });
}

const directory = {
  count: 3,
  next: null,
  previous: null,
  results: [
    { id: 2, username: "clin_a", display_name: "Jisoo Kim", role: "clinician" },
    { id: 3, username: "clin_b", display_name: "clin_b", role: "clinician" },
    { id: 4, username: "dr_park", display_name: "Minho Park", role: "clinician" },
  ],
};

const patient: Patient = {
  id: 1,
  mrn: "MRN-0001",
  name: "Hong Gildong",
  birth_date: "1980-01-02",
  sex: "male",
  notes: "",
  care_team: [2, 3],
  created_at: "2026-11-27T10:00:00Z",
  updated_at: "2026-11-27T10:00:00Z",
};

describe("care team", () => {
  it("names the team from the directory, and a member no longer in it by id", async () => {
    server.use(http.get("*/api/v1/users/directory/", () => HttpResponse.json(directory)));
    renderWithProviders(<CareTeamList ids={[2, 9]} />);
    expect(await screen.findByText("Jisoo Kim (clin_a)")).toBeInTheDocument();
    expect(screen.getByText("User #9 (not in the directory)")).toBeInTheDocument();
  });

  it("edits the team from the directory and sends it with the form", { timeout: 20000 }, async () => {
    const searches: (string | null)[] = [];
    server.use(
      http.get("*/api/v1/auth/me/", () => HttpResponse.json({ id: 2, username: "clin_a", email: "", first_name: "Jisoo", last_name: "Kim", role: "clinician", last_login: null })),
      http.get("*/api/v1/users/directory/", ({ request }) => {
        const search = new URL(request.url).searchParams.get("search");
        searches.push(search);
        const results = search ? directory.results.filter((c) => c.display_name.toLowerCase().includes(search.toLowerCase())) : directory.results;
        return HttpResponse.json({ ...directory, count: results.length, results });
      }),
    );
    const onSubmit = vi.fn();
    const ui = userEvent.setup();
    renderWithProviders(<PatientForm initial={patient} submitLabel="Save" pending={false} error={null} onSubmit={onSubmit} onCancel={() => {}} />);
    const field = (await screen.findAllByLabelText(/Care team/)).find((element) => element.tagName === "INPUT")!;
    await ui.click(field);
    await ui.type(field, "park");
    await waitFor(() => expect(searches).toContain("park"));
    await ui.click(await screen.findByRole("option", { name: "Minho Park (dr_park)", hidden: true }));
    await ui.click(screen.getByRole("button", { name: "Save" }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(onSubmit.mock.calls[0][0].care_team).toEqual([2, 3, 4]);
  });

  it("warns a clinician who takes themselves off the team", { timeout: 20000 }, async () => {
    server.use(
      http.get("*/api/v1/auth/me/", () => HttpResponse.json({ id: 2, username: "clin_a", email: "", first_name: "", last_name: "", role: "clinician", last_login: null })),
      http.get("*/api/v1/users/directory/", () => HttpResponse.json(directory)),
    );
    const onSubmit = vi.fn();
    renderWithProviders(<PatientForm initial={{ ...patient, care_team: [3] }} submitLabel="Save" pending={false} error={null} onSubmit={onSubmit} onCancel={() => {}} />);
    expect(await screen.findByTestId("care-team-leaving", {}, { timeout: 4000 })).toHaveTextContent("you will no longer see this patient");
  });
});
