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
  it("leaves out interpretations and reports (they show on their analysis's page)", async () => {
    server.use(
      http.get("*/api/v1/analyses/", () =>
        HttpResponse.json({
          count: 4,
          next: null,
          previous: null,
          results: [row(13, "report"), row(12, "interpretation"), row(11, "ct"), row(10, "omics_rosmap")],
        }),
      ),
    );
    renderWithProviders(<AnalysesPanel patientId={1} />);
    await screen.findAllByText(/CT analysis/);
    const shown = (id: number) => document.querySelectorAll(`[data-analysis-id="${id}"]`).length > 0;
    expect(shown(11)).toBe(true);
    expect(shown(10)).toBe(true);
    expect(shown(12)).toBe(false);
    expect(shown(13)).toBe(false);
  });
});
