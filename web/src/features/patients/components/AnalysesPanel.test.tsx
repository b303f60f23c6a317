import { screen } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import { renderWithProviders } from "@/test/render";
import { server } from "@/test/server";

import { AnalysesPanel } from "./AnalysesPanel";

const row = (id: number, kind: string) => ({
  id,
  kind,
  patient: 1,
  requested_by: 2,
  status: "COMPLETED",
  error: null,
  created_at: "2026-11-27T10:00:00Z",
  updated_at: "2026-11-27T10:01:00Z",
  result_url: null,
  model_version: "",
});

describe("AnalysesPanel", () => {
  it("asks the API to leave out interpretations and reports (they show on their analysis's page)", async () => {
    let query: URLSearchParams | null = null;
    server.use(
      http.get("*/api/v1/analyses/", ({ request }) => {
        query = new URL(request.url).searchParams;
        return HttpResponse.json({
          count: 2,
          next: null,
          previous: null,
          results: [row(11, "ct"), row(10, "omics_rosmap")],
        });
      }),
    );
    renderWithProviders(<AnalysesPanel patientId={1} />);
    await screen.findAllByText(/CT analysis/);
    const shown = (id: number) => document.querySelectorAll(`[data-analysis-id="${id}"]`).length > 0;
    expect(shown(11)).toBe(true);
    expect(shown(10)).toBe(true);
    expect(query!.get("exclude_kind")).toBe("interpretation,report");
    expect(query!.get("patient")).toBe("1");
  });
});
