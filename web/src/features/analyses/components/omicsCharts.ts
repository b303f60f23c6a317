// The omics charts as Plotly figures, built from the stored result (no second request): the
// features that drove the result as horizontal bars, and the PAAD risk group's Kaplan-Meier curve
// as a step line with its 95% band. Pure functions, so the series are unit-tested.
import type { components } from "@/lib/api/schema";
import type { PlotlyFigureSpec } from "@/lib/plotly/PlotlyFigure";

type Feature = components["schemas"]["DrivingFeature"];
type SurvivalPoint = components["schemas"]["SurvivalPoint"];

const DIRECTION_COLOURS = ["#c0392b", "#2471a3", "#7d3c98", "#1e8449"];

export interface FeatureChartText {
  title: string;
  contribution: string;
  direction: (direction: string) => string;
}

/** One bar per feature (its contribution), largest at the top; one trace per direction so the
 * legend says which outcome each colour pushes towards. */
export function featureFigure(features: Feature[], text: FeatureChartText): PlotlyFigureSpec {
  const ordered = [...features].sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  const name = (f: Feature) => `${f.feature} (${f.layer})`;
  const directions = [...new Set(ordered.map((f) => f.direction))];
  const data = directions.map((direction, index) => {
    const rows = ordered.filter((f) => f.direction === direction);
    return {
      type: "bar",
      orientation: "h",
      name: text.direction(direction),
      x: rows.map((f) => f.contribution),
      y: rows.map(name),
      customdata: rows.map((f) => f.value),
      hovertemplate: "%{y}<br>%{x:.3g}<extra>%{fullData.name}</extra>",
      marker: { color: DIRECTION_COLOURS[index % DIRECTION_COLOURS.length] },
    };
  });
  return {
    data,
    layout: {
      title: { text: text.title, font: { size: 14 } },
      barmode: "overlay",
      showlegend: directions.length > 1,
      legend: { orientation: "h", y: -0.2 },
      margin: { l: 10, r: 10, t: 40, b: 50 },
      xaxis: { title: { text: text.contribution }, exponentformat: "e", zeroline: true },
      // Plotly draws the first category at the bottom: reversed, the largest is on top.
      yaxis: { automargin: true, categoryorder: "array", categoryarray: ordered.map(name).reverse() },
    },
    config: { displayModeBar: false },
  };
}

export interface SurvivalSeries {
  days: number[];
  survival: number[];
  lower: number[] | null;
  upper: number[] | null;
}

/** The curve as arrays, sorted by day and starting at day 0 with everyone alive (a Kaplan-Meier
 * curve does; a stored curve that begins later would otherwise draw nothing before it). */
export function survivalSeries(points: SurvivalPoint[]): SurvivalSeries {
  const sorted = [...points].filter((p) => Number.isFinite(p.day) && Number.isFinite(p.survival)).sort((a, b) => a.day - b.day);
  const withBand = sorted.length > 0 && sorted.every((p) => typeof p.lower === "number" && typeof p.upper === "number");
  if (sorted.length > 0 && sorted[0].day > 0) {
    sorted.unshift({ day: 0, survival: 1, ...(withBand ? { lower: 1, upper: 1 } : {}) });
  }
  return {
    days: sorted.map((p) => p.day),
    survival: sorted.map((p) => p.survival),
    lower: withBand ? sorted.map((p) => p.lower as number) : null,
    upper: withBand ? sorted.map((p) => p.upper as number) : null,
  };
}

export interface SurvivalChartText {
  title: string;
  curve: string;
  band: string;
  days: string;
  survival: string;
}

/** Step line ("hv": the value holds until the next event) over its band; survival 0-1. */
export function survivalFigure(series: SurvivalSeries, text: SurvivalChartText, medianDays: number | null): PlotlyFigureSpec {
  const data: Record<string, unknown>[] = [];
  if (series.lower && series.upper) {
    data.push(
      { type: "scatter", mode: "lines", x: series.days, y: series.lower, line: { shape: "hv", width: 0 }, hoverinfo: "skip", showlegend: false },
      {
        type: "scatter",
        mode: "lines",
        name: text.band,
        x: series.days,
        y: series.upper,
        fill: "tonexty",
        fillcolor: "rgba(93, 173, 226, 0.3)",
        line: { shape: "hv", width: 0 },
        hoverinfo: "skip",
      },
    );
  }
  data.push({
    type: "scatter",
    mode: "lines",
    name: text.curve,
    x: series.days,
    y: series.survival,
    line: { shape: "hv", color: "#1a5276", width: 2 },
    hovertemplate: `${text.days}: %{x:.0f}<br>${text.survival}: %{y:.2f}<extra></extra>`,
  });
  const shapes =
    medianDays === null
      ? []
      : [{ type: "line", x0: medianDays, x1: medianDays, y0: 0, y1: 0.5, line: { color: "#999999", dash: "dot", width: 1 } }];
  return {
    data,
    layout: {
      title: { text: text.title, font: { size: 14 } },
      margin: { l: 55, r: 10, t: 40, b: 50 },
      legend: { orientation: "h", y: -0.25 },
      xaxis: { title: { text: text.days }, rangemode: "tozero" },
      yaxis: { title: { text: text.survival }, range: [0, 1.02] },
      shapes,
    },
    config: { displayModeBar: false },
  };
}
