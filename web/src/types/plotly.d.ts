// The few calls the PlotlyFigure wrapper makes; plotly.js-dist-min ships no types of its own.
declare module "plotly.js-dist-min" {
  interface PlotlyStatic {
    newPlot(
      element: HTMLElement,
      data: unknown[],
      layout?: Record<string, unknown>,
      config?: Record<string, unknown>,
    ): Promise<unknown>;
    purge(element: HTMLElement): void;
  }
  const Plotly: PlotlyStatic;
  export default Plotly;
}
