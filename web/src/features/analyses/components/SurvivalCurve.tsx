// The PAAD risk group's Kaplan-Meier curve from the stored result: a step line over its 95% band,
// axes in days and survival probability, drawn by Plotly.
import { Text } from "@mantine/core";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import type { components } from "@/lib/api/schema";
import { PlotlyFigure } from "@/lib/plotly/PlotlyFigure";

import { survivalFigure, survivalSeries } from "./omicsCharts";

type Paad = components["schemas"]["PaadResult"];

export function SurvivalCurve({ result }: { result: Paad }) {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>(null);
  const group = t(`omics.riskGroups.${result.risk_group}`, { defaultValue: result.risk_group });
  const figure = useMemo(
    () =>
      survivalFigure(
        survivalSeries(result.survival_curve),
        {
          title: t("omics.chart.survivalTitle", { group }),
          curve: t("omics.chart.curve"),
          band: t("omics.chart.band"),
          days: t("omics.chart.days"),
          survival: t("omics.chart.survival"),
        },
        result.group_median_survival_days,
      ),
    [result, group, t],
  );
  if (result.survival_curve.length === 0) return null;
  return (
    <div data-testid="survival-curve">
      <ErrorAlert error={error} title={t("omics.chart.failed")} />
      <PlotlyFigure figure={figure} title={t("omics.chart.survivalTitle", { group })} height={360} onError={setError} />
      <Text size="xs" c="dimmed">
        {t("omics.chart.survivalNote")}
      </Text>
    </div>
  );
}
