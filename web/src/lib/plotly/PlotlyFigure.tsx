// A small wrapper around plotly.js-dist-min (not react-plotly.js, which pulls the full 97 MB
// plotly.js): the library is imported only when a figure mounts, so it stays out of the first
// load, and each figure is purged when it unmounts.
import { useEffect, useRef } from "react";

import { cspNonce } from "@/lib/csp";

// plotly.js injects <style> elements by these ids unless they exist; the page's policy refuses
// them without a nonce. Made here first, with the nonce, plotly fills the first through CSSOM
// (which the policy allows): its modebar and hover styles. The second is maplibre's stylesheet,
// for maps, which CDSS does not draw: left empty. (Both ids are plotly.js-dist-min 3.x's.)
const PLOTLY_STYLE_IDS = ["plotly.js-style-global", "ce8d464691048653ffe3a57c6c18ab566e8366f186677868cf724621a857b4fe"];

function prepareStyleElements(): void {
  const nonce = cspNonce();
  for (const id of PLOTLY_STYLE_IDS) {
    if (document.getElementById(id)) continue;
    const style = document.createElement("style");
    style.id = id;
    if (nonce) style.setAttribute("nonce", nonce);
    document.head.appendChild(style);
  }
}

export interface PlotlyFigureSpec {
  data: unknown[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

interface Props {
  figure: PlotlyFigureSpec;
  /** What the figure shows, for screen readers. */
  title: string;
  height?: number;
  onError?: (error: unknown) => void;
}

export function PlotlyFigure({ figure, title, height = 480, onError }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const reportError = useRef(onError);
  reportError.current = onError;

  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    let cancelled = false;
    let purge: (() => void) | null = null;
    prepareStyleElements();
    import("plotly.js-dist-min")
      .then(async ({ default: plotly }) => {
        if (cancelled) return;
        purge = () => plotly.purge(element);
        const layout = { autosize: true, height, margin: { l: 0, r: 0, t: 30, b: 0 }, ...figure.layout };
        const config = { responsive: true, displaylogo: false, ...figure.config };
        await plotly.newPlot(element, figure.data, layout, config);
      })
      .catch((error: unknown) => {
        if (!cancelled) reportError.current?.(error);
      });
    return () => {
      cancelled = true;
      purge?.();
    };
  }, [figure, height]);

  return <div ref={container} role="img" aria-label={title} className="cdss-plot" style={{ minHeight: height }} />;
}
