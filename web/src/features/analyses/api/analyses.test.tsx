import { act, waitFor } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import { renderHookWithProviders } from "@/test/render";
import { server } from "@/test/server";

import { sequenceInputs } from "../components/SequenceForm";
import { useAnalysis, useAnalysisResult, useSubmitAnalysis } from "./analyses";

const analysis = {
  id: 8,
  kind: "omics_rosmap",
  patient: 1,
  requested_by: 2,
  status: "COMPLETED",
  error: null,
  created_at: "2026-11-27T10:00:00Z",
  updated_at: "2026-11-27T10:01:00Z",
  result_url: "/api/v1/analyses/8/result/",
  artifacts: [{ name: "features.png", content_type: "image/png", size: 100, sha256: "x", url: "/api/v1/analyses/8/artifacts/features.png" }],
};

describe("useSubmitAnalysis", () => {
  it("posts the kind, patient and inputs and returns the queued analysis", async () => {
    let body: unknown = null;
    server.use(
      http.post("*/api/v1/analyses/", async ({ request }) => {
        body = await request.json();
        return HttpResponse.json({ ...analysis, id: 12, kind: "ct", status: "PENDING" }, { status: 202 });
      }),
    );
    const { result } = renderHookWithProviders(() => useSubmitAnalysis());
    let created: { id: number } | undefined;
    await act(async () => {
      created = await result.current.mutateAsync({ kind: "ct", patient: 1, inputs: { volume_file: 3, segmentation_file: 4 } });
    });
    expect(created?.id).toBe(12);
    expect(body).toEqual({ kind: "ct", patient: 1, inputs: { volume_file: 3, segmentation_file: 4 } });
  });

  it("passes on the API's message naming the bad input", async () => {
    server.use(
      http.post("*/api/v1/analyses/", () =>
        HttpResponse.json({ error: "Invalid input: inputs.volume_file: No such file.", detail: {} }, { status: 400 }),
      ),
    );
    const { result } = renderHookWithProviders(() => useSubmitAnalysis());
    await act(async () => {
      await result.current.mutateAsync({ kind: "ct", patient: 1, inputs: { volume_file: 99 } }).catch(() => undefined);
    });
    expect(result.current.error?.message).toBe("Invalid input: inputs.volume_file: No such file.");
  });
});

describe("useAnalysis and useAnalysisResult", () => {
  it("reads the analysis, then its result once completed", async () => {
    server.use(
      http.get("*/api/v1/analyses/8/", () => HttpResponse.json(analysis)),
      http.get("*/api/v1/analyses/8/result/", () => HttpResponse.json({ predicted_class: "AD", probability: 0.9 })),
    );
    const detail = renderHookWithProviders(() => useAnalysis(8, false));
    await waitFor(() => expect(detail.result.current.data?.status).toBe("COMPLETED"));
    const result = renderHookWithProviders(() => useAnalysisResult(8, true));
    await waitFor(() => expect(result.result.current.isSuccess).toBe(true));
    expect(result.result.current.data).toMatchObject({ predicted_class: "AD" });
  });

  it("does not ask for a result before the analysis completes", async () => {
    let asked = false;
    server.use(
      http.get("*/api/v1/analyses/8/result/", () => {
        asked = true;
        return HttpResponse.json({});
      }),
    );
    const { result } = renderHookWithProviders(() => useAnalysisResult(8, false));
    expect(result.current.fetchStatus).toBe("idle");
    expect(asked).toBe(false);
  });
});

describe("sequenceInputs", () => {
  it("sends FASTA text as fasta and a bare sequence as one item", () => {
    expect(sequenceInputs(">s1\nMFVF\n>s2\nMKAI\n", "protein")).toEqual({ fasta: ">s1\nMFVF\n>s2\nMKAI", seq_type: "protein" });
    expect(sequenceInputs(" MFVF LVLL\nPLVS ", "auto")).toEqual({
      items: [{ id: "query", sequence: "MFVFLVLLPLVS", seq_type: "auto" }],
    });
  });
});
