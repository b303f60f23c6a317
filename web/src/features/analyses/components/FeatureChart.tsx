// The features that drove an omics result, as a bar chart of their contributions (Plotly, loaded
// with the first figure); the table beside it keeps the exact numbers.
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import type { components } from "@/lib/api/schema";
import { PlotlyFigure } from "@/lib/plotly/PlotlyFigure";

import { featureFigure } from "./omicsCharts";

type Feature = components["schemas"]["DrivingFeature"];

export function FeatureChart({ features }: { features: Feature[] }) {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>(null);
  const figure = useMemo(
    () =>
      featureFigure(features, {
        title: t("omics.chart.featuresTitle"),
        contribution: t("omics.chart.contribution"),
        direction: (direction) => t("omics.chart.towards", { outcome: t(`omics.classes.${direction}`, { defaultValue: direction }) }),
      }),
    [features, t],
  );
  if (features.length === 0) return null;
  return (
    <div data-testid="feature-chart">
      <ErrorAlert error={error} title={t("omics.chart.failed")} />
      <PlotlyFigure figure={figure} title={t("omics.chart.featuresTitle")} height={Math.max(220, 60 + features.length * 28)} onError={setError} />
    </div>
  );
}
