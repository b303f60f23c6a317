import { screen } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import type { components } from "@/lib/api/schema";
import { renderWithProviders } from "@/test/render";
import { server } from "@/test/server";

import type { AnalysisResult } from "../api/analyses";
import { ResultView } from "./ResultView";

const png = (name: string) => ({
  name,
  content_type: "image/png",
  size: 10,
  sha256: "0",
  url: `/api/v1/analyses/5/artifacts/${name}`,
});

function servePngs() {
  server.use(http.get("*/api/v1/analyses/5/artifacts/:name", () => new HttpResponse(new Uint8Array([137, 80, 78, 71]), { headers: { "Content-Type": "image/png" } })));
}

const ct: components["schemas"]["CtResult"] = {
  ok: true,
  volume: { hu_range: [-1024, 3071], shape: [122, 101, 112], orientation: "RAS", source_format: "nifti", series_description: null, slices: 112 },
  labels: [{ id: 1, name: "lung", colour: "#4fa3e0", source: "hu_rules" }],
  structures: [
    { name: "lung", label: 1, voxels: 120000, volume_ml: 3240.5, hu_mean: -812.3, hu_std: 80.1, source: "hu-rules-1" },
    { name: "adrenal_gland_left", label: 8, voxels: 210, volume_ml: 5.6, hu_mean: 31.2, hu_std: 12.4, source: "segmentation" },
  ],
  body_composition: {
    body_volume_ml: 25000,
    subcutaneous_fat_ml: 4000,
    visceral_fat_ml: 2500,
    l3: { slice: 40, z_mm: 120, method: "hu_rules", note: null, subcutaneous_fat_cm2: 150.2, visceral_fat_cm2: 98.7 },
    muscle: "needs a segmentation",
  },
  liver: { status: "segmented", model: "liver-unet", version: "1", volume_ml: 1500, hu_mean: 55, lesion_count: 1, lesion_volume_ml: 2.5, lesions: [], lesion_caution: "decision support, unvalidated" },
  adrenal: [
    { structure: "adrenal_gland_left", finding: "adrenal mass", model: "adrenal-shape-cnn", input_size: 28, threshold: 0.5, gland_volume_ml: 5.6, probability: 0.12, label: "normal" },
  ],
  findings: [{ code: "lung_volume", text: "Aerated lung volume in the scan: 3,240 mL.", values: { volume_ml: 3240.5 }, source: "hu-rules-1" }],
  models: [{ name: "adrenal-shape-cnn", version: "img-2026.11.1", role: "adrenal mass" }],
  notes: ["liver model not installed"],
  model_name: "cdss-ct",
  model_version: "img-2026.11.1",
  disclaimer: "Not a medical device; for decision support only.",
  timings_s: { total: 12.5 },
};

describe("ResultView", () => {
  it("draws a CT result: findings, slices, measurements, body composition, adrenal glands", async () => {
    servePngs();
    renderWithProviders(
      <ResultView
        kind="ct"
        result={ct as AnalysisResult}
        artifacts={[png("slices.png"), { ...png("mesh.json"), name: "mesh.json", content_type: "application/json" }]}
      />,
    );
    expect(screen.getByText(/Aerated lung volume in the scan/)).toBeInTheDocument();
    expect(screen.getAllByText("Lungs").length).toBeGreaterThan(0);
    expect(screen.getAllByText("3,240.5").length).toBeGreaterThan(0);
    expect(screen.getAllByText("No mass").length).toBeGreaterThan(0);
    expect(screen.getByText(/slice 40: subcutaneous 150.2 cm², visceral 98.7 cm²/)).toBeInTheDocument();
    expect(screen.getByTestId("open-mesh")).toBeInTheDocument(); // plotly loads only on demand
    expect(await screen.findByAltText(/Axial, coronal and sagittal/)).toHaveAttribute("src", expect.stringMatching(/^blob:/));
  });

  it("draws a survival-risk result with its evidence", () => {
    const paad = {
      ok: true,
      model: "tcga_paad",
      model_name: "omics-paad",
      model_version: "omics-2026.11.0",
      sample_id: "p1",
      top_features: [{ layer: "mirna", feature: "hsa-miR-21", value: 1.5, contribution: 2.8e-6, direction: "high" }],
      layers_used: ["mirna"],
      missing_layers: ["cnv"],
      missing_layer: true,
      confidence: "low",
      confidence_reasons: ["a layer is missing"],
      disclaimer: "Not a medical device; for decision support only.",
      risk_score: 0.42,
      risk_group: "high",
      risk_percentile: 0.81,
      group_median_survival_days: 412.4,
      group_size: { high: 60, low: 60 },
      predicted_survival: { "365": 0.55 },
      survival_curve: [],
      at_risk: [],
      evidence: "Test C-index 0.48; repeated CV 0.56: weak evidence.",
    } satisfies components["schemas"]["PaadResult"];
    renderWithProviders(<ResultView kind="omics_paad_survival" result={paad} artifacts={[]} />);
    expect(screen.getByTestId("omics-risk")).toHaveTextContent("High risk");
    expect(screen.getByText("412 days")).toBeInTheDocument();
    expect(screen.getByText(/weak evidence/)).toBeInTheDocument();
    expect(screen.getAllByText("2.8E-6").length).toBeGreaterThan(0);
    expect(screen.getByText("Missing layers: cnv")).toBeInTheDocument();
  });

  it("opens the CT viewer with the stored volume and labels, and says so when WebGL is missing", async () => {
    const fetched: string[] = [];
    server.use(
      http.get("*/api/v1/analyses/5/artifacts/:name", ({ params }) => {
        fetched.push(String(params.name));
        return new HttpResponse(new Uint8Array([31, 139]), { headers: { "Content-Type": "application/gzip" } });
      }),
    );
    const gz = (name: string) => ({ ...png(name), content_type: "application/gzip" });
    renderWithProviders(<ResultView kind="ct" result={ct as AnalysisResult} artifacts={[gz("volume.nii.gz"), gz("segmentation.nii.gz")]} />);
    // jsdom has no WebGL: the viewer says why it cannot draw instead of showing a blank box.
    expect(await screen.findByTestId("ct-viewer-unavailable", {}, { timeout: 40000 })).toHaveTextContent(/WebGL 2/);
    expect(fetched.sort()).toEqual(["segmentation.nii.gz", "volume.nii.gz"]);
  }, 60000); // the lazy Niivue chunk is transformed on first import

  it("says a CT analysis without a stored volume cannot be viewed", () => {
    renderWithProviders(<ResultView kind="ct" result={ct as AnalysisResult} artifacts={[]} />);
    expect(screen.getByText(/did not store its volume for the viewer/)).toBeInTheDocument();
  });

  it("opens the structure of a single sequence's predicted protein from its artifact", async () => {
    server.use(
      http.get("*/api/v1/analyses/5/artifacts/structure-6VXX.pdb", () => new HttpResponse("ATOM      1  N   MET A   1\n", { headers: { "Content-Type": "chemical/x-pdb" } })),
    );
    const batch = {
      ok: true,
      batch: true,
      model_name: "seq",
      model_version: "seq-2026.11.3",
      count: 1,
      ok_count: 1,
      failed_count: 0,
      results: [
        {
          ok: true,
          index: 0,
          id: "spike",
          prediction: {
            task1: { is_pathogen: true, probability: 0.99 },
            task2: { protein_type: "Spike", probability: 0.9 },
            task3: { top_predictions: [["Spike_SARS-CoV-2", 0.98]] },
          },
          task3_structure: {
            protein_name: "Spike_SARS-CoV-2",
            top1_probability: 0.98,
            uniprot_hits: [
              {
                uniprot_id: "P0DTC2",
                protein_name: "Spike glycoprotein",
                organism: "SARS-CoV-2",
                preferred_3d: { source: "pdb", id: "6VXX", url: "https://www.rcsb.org/structure/6VXX", local_file: "6vxx.pdb" },
              },
            ],
          },
          nearest_references: [],
        },
      ],
    };
    const structure = { ...png("structure-6VXX.pdb"), content_type: "chemical/x-pdb" };
    renderWithProviders(<ResultView kind="sequence_batch" result={batch as unknown as AnalysisResult} artifacts={[structure]} />);
    expect(screen.getByText("3D structure: Spike glycoprotein")).toBeInTheDocument();
    expect(await screen.findByTestId("structure-viewer-unavailable", {}, { timeout: 40000 })).toHaveTextContent(/WebGL/);
  }, 60000); // the lazy 3Dmol chunk is transformed on first import

  it("draws the PAAD survival curve and the feature chart from the result", () => {
    const paad = {
      ok: true,
      model: "tcga_paad",
      model_name: "omics-paad",
      model_version: "omics-2026.11.0",
      sample_id: "p1",
      top_features: [{ layer: "mirna", feature: "hsa-miR-21", value: 1.5, contribution: 0.3, direction: "high" }],
      layers_used: ["mirna"],
      missing_layers: [],
      missing_layer: false,
      confidence: "normal",
      confidence_reasons: [],
      disclaimer: "Not a medical device; for decision support only.",
      risk_score: 0.42,
      risk_group: "high",
      risk_percentile: 0.81,
      group_median_survival_days: 412.4,
      group_size: { high: 60, low: 60 },
      predicted_survival: { "365": 0.55 },
      survival_curve: [
        { day: 0, survival: 1, lower: 1, upper: 1, at_risk: 60 },
        { day: 412, survival: 0.5, lower: 0.38, upper: 0.62, at_risk: 30 },
      ],
      at_risk: [],
      evidence: "weak evidence",
    } satisfies components["schemas"]["PaadResult"];
    renderWithProviders(<ResultView kind="omics_paad_survival" result={paad} artifacts={[]} />);
    expect(screen.getByText("Survival of the risk group")).toBeInTheDocument();
    expect(screen.getByRole("img", { name: "Overall survival, High risk group (training patients)" })).toBeInTheDocument();
    expect(screen.getByTestId("feature-chart")).toBeInTheDocument();
  });

  it("shows a failed sequence item with its own error beside the others", () => {
    const batch = {
      ok: true,
      batch: true,
      model_name: "seq",
      model_version: "seq-2026.11.3",
      count: 1,
      ok_count: 0,
      failed_count: 1,
      results: [{ ok: false, index: 0, id: "bad", error: "sequence: contains characters that are not amino acids" }],
    };
    renderWithProviders(<ResultView kind="sequence_batch" result={batch as unknown as AnalysisResult} artifacts={[]} />);
    expect(screen.getByText("sequence: contains characters that are not amino acids")).toBeInTheDocument();
    expect(screen.getByText("1 failed")).toBeInTheDocument();
  });
});
