import { describe, expect, it } from "vitest";

import { CT_WINDOWS, drawColormap, hexToRgb } from "./ctColours";
import { featureFigure, survivalFigure, survivalSeries } from "./omicsCharts";
import { cartoonStyle } from "./StructureViewer";
import { itemStructure, type SequenceItem } from "./SequenceResult";

const CT_LABELS = [
  { id: 2, name: "bone", colour: "#f2e6c2" },
  { id: 1, name: "lung", colour: "#4fa3e0" },
  { id: 6, name: "liver_lesion", colour: "#E0245E" },
];

describe("CT label colours", () => {
  it("reads #rrggbb and refuses anything else", () => {
    expect(hexToRgb("#4fa3e0")).toEqual([79, 163, 224]);
    expect(hexToRgb("#E0245E")).toEqual([224, 36, 94]);
    expect(hexToRgb("red")).toBeNull();
    expect(hexToRgb("#fff")).toBeNull();
  });

  it("make a drawing colour map: 0 transparent, each label id opaque in its colour", () => {
    const map = drawColormap(CT_LABELS);
    expect(map.I).toEqual([0, 1, 2, 6]);
    expect(map.A).toEqual([0, 255, 255, 255]);
    expect([map.R[1], map.G[1], map.B[1]]).toEqual([79, 163, 224]); // lung
    expect([map.R[3], map.G[3], map.B[3]]).toEqual([224, 36, 94]); // liver lesion
    expect(map.labels).toEqual(["", "lung", "bone", "liver_lesion"]);
  });

  it("leave out a label with a bad colour, an impossible id or a repeated id", () => {
    const map = drawColormap([
      { id: 1, name: "lung", colour: "blue" },
      { id: 0, name: "background", colour: "#000000" },
      { id: 300, name: "too big", colour: "#000000" },
      { id: 3, name: "fat", colour: "#f5c242" },
      { id: 3, name: "again", colour: "#000000" },
    ]);
    expect(map.I).toEqual([0, 3]);
    expect(map.labels).toEqual(["", "fat"]);
  });

  it("window presets are level +- width / 2", () => {
    expect(CT_WINDOWS.softTissue).toEqual({ min: 40 - 200, max: 40 + 200 });
    expect(CT_WINDOWS.lung).toEqual({ min: -600 - 750, max: -600 + 750 });
    expect(CT_WINDOWS.bone).toEqual({ min: 400 - 900, max: 400 + 900 });
  });
});

describe("omics charts", () => {
  const features = [
    { layer: "mrna", feature: "KRAS", value: 2.1, contribution: 0.1, direction: "high" },
    { layer: "mirna", feature: "hsa-miR-21", value: 1.5, contribution: 0.4, direction: "high" },
    { layer: "cnv", feature: "CDKN2A", value: -1, contribution: -0.2, direction: "low" },
  ];
  const text = { title: "T", contribution: "C", direction: (d: string) => `to ${d}` };

  it("draw one bar trace per direction, the largest contribution on top", () => {
    const figure = featureFigure(features, text);
    const traces = figure.data as { name: string; x: number[]; y: string[] }[];
    expect(traces.map((trace) => trace.name)).toEqual(["to high", "to low"]);
    expect(traces[0].x).toEqual([0.4, 0.1]);
    expect(traces[1].y).toEqual(["CDKN2A (cnv)"]);
    const yaxis = (figure.layout as { yaxis: { categoryarray: string[] } }).yaxis;
    // Plotly's first category is the bottom one.
    expect(yaxis.categoryarray).toEqual(["KRAS (mrna)", "CDKN2A (cnv)", "hsa-miR-21 (mirna)"]);
  });

  it("a survival series is sorted, starts at day 0 with everyone alive, keeps its band", () => {
    const series = survivalSeries([
      { day: 200, survival: 0.6, lower: 0.45, upper: 0.75, at_risk: 30 },
      { day: 50, survival: 0.9, lower: 0.8, upper: 0.97, at_risk: 55 },
    ]);
    expect(series.days).toEqual([0, 50, 200]);
    expect(series.survival).toEqual([1, 0.9, 0.6]);
    expect(series.lower).toEqual([1, 0.8, 0.45]);
    expect(series.upper).toEqual([1, 0.97, 0.75]);
  });

  it("a curve without a band has none, and a curve from day 0 is not padded", () => {
    const series = survivalSeries([
      { day: 0, survival: 1 },
      { day: 30, survival: 0.8 },
      { day: Number.NaN, survival: 0.5 },
    ]);
    expect(series.days).toEqual([0, 30]);
    expect(series.lower).toBeNull();
    const figure = survivalFigure(series, { title: "T", curve: "KM", band: "B", days: "Days", survival: "S" }, null);
    expect(figure.data).toHaveLength(1);
    expect((figure.data[0] as { line: { shape: string } }).line.shape).toBe("hv");
  });

  it("the survival figure stacks the band under a step line and marks the median", () => {
    const series = survivalSeries([
      { day: 0, survival: 1, lower: 1, upper: 1 },
      { day: 100, survival: 0.4, lower: 0.3, upper: 0.5 },
    ]);
    const figure = survivalFigure(series, { title: "T", curve: "KM", band: "B", days: "Days", survival: "S" }, 90);
    const traces = figure.data as { name?: string; y: number[]; fill?: string; line: { shape: string } }[];
    expect(traces.map((trace) => trace.name)).toEqual([undefined, "B", "KM"]);
    expect(traces[1].fill).toBe("tonexty");
    expect(traces.every((trace) => trace.line.shape === "hv")).toBe(true);
    const layout = figure.layout as { xaxis: { title: { text: string } }; yaxis: { title: { text: string } }; shapes: { x0: number }[] };
    expect(layout.xaxis.title.text).toBe("Days");
    expect(layout.yaxis.title.text).toBe("S");
    expect(layout.shapes[0].x0).toBe(90);
  });
});

describe("structures", () => {
  const artifact = (name: string) => ({ name, content_type: "chemical/x-pdb", size: 1, sha256: "0", url: `/a/${name}` });
  const item = (id: string | null, source: "pdb" | "alphafold" = "pdb"): SequenceItem => ({
    ok: true,
    index: 0,
    task3_structure: {
      protein_name: "Spike_SARS-CoV-2",
      top1_probability: 0.98,
      uniprot_hits: [
        { uniprot_id: "P0DTC2", protein_name: "Spike", organism: "SARS-CoV-2", preferred_3d: { source, id, url: null, local_file: "x.pdb" } },
      ],
    },
  });

  it("an item's structure is the stored artifact of its PDB entry", () => {
    expect(itemStructure(item("6vxx"), [artifact("structure-6VXX.pdb")])).toMatchObject({ pdbId: "6VXX", name: "Spike" });
    expect(itemStructure(item("6VXX"), [artifact("structure-2YP7.pdb")])).toBeNull();
    expect(itemStructure(item("P0DTC2", "alphafold"), [artifact("structure-P0DTC2.pdb")])).toBeNull();
    expect(itemStructure({ ok: false, index: 1 }, [artifact("structure-6VXX.pdb")])).toBeNull();
  });

  it("cartoon styles colour by chain or along the chain", () => {
    expect(cartoonStyle("chain")).toEqual({ cartoon: { colorscheme: "chain" } });
    expect(cartoonStyle("spectrum")).toEqual({ cartoon: { color: "spectrum" } });
  });
});
