import { useTranslation } from "react-i18next";

import type { components } from "@/lib/api/schema";
import { ResponsiveTable } from "@/components/ResponsiveTable";
import { formatSignificant } from "@/lib/format";

type Feature = components["schemas"]["DrivingFeature"];

/** The features that drove an omics result, with their share of the score. */
export function FeaturesTable({ features }: { features: Feature[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  return (
    <ResponsiveTable
      testId="features-table"
      striped
      rows={features}
      rowKey={(feature) => `${feature.layer}:${feature.feature}`}
      columns={[
        { key: "feature", header: t("omics.feature"), cell: (feature) => feature.feature, primary: true },
        { key: "layer", header: t("omics.layer"), cell: (feature) => feature.layer },
        { key: "value", header: t("omics.value"), cell: (feature) => formatSignificant(feature.value, lang) },
        { key: "contribution", header: t("omics.contribution"), cell: (feature) => formatSignificant(feature.contribution, lang) },
        {
          key: "direction",
          header: t("omics.direction"),
          cell: (feature) => t(`omics.classes.${feature.direction}`, { defaultValue: feature.direction }),
        },
      ]}
    />
  );
}
