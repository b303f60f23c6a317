import { Anchor, Badge, Group, Stack, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { ResponsiveTable } from "@/components/ResponsiveTable";
import { formatNumber } from "@/lib/format";

import type { CatalogModel } from "../api/models";

const SHOWN_METRICS = 3;

// Ends in /card: a path ending in ".1" (a version) would be taken for a missing file by the server.
export function cardPath(model: Pick<CatalogModel, "name" | "version">): string {
  return `/models/${encodeURIComponent(model.name)}/${encodeURIComponent(model.version)}/card`;
}

/** Every shipped model version: its kind, whether it is the one served, a few headline metrics. */
export function ModelsTable({ models }: { models: CatalogModel[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  if (models.length === 0) {
    return (
      <Text c="dimmed" py="lg" ta="center">
        {t("models.empty")}
      </Text>
    );
  }
  return (
    <ResponsiveTable
      testId="models-table"
      striped
      rows={models}
      rowKey={(model) => `${model.name}/${model.version}`}
      columns={[
        {
          key: "name",
          header: t("models.fields.name"),
          cell: (model) => (
            <Anchor component={Link} to={cardPath(model)} fw={500} data-model={model.name}>
              {model.name}
            </Anchor>
          ),
        },
        { key: "version", header: t("models.fields.version"), cell: (model) => <code>{model.version}</code> },
        {
          key: "kind",
          header: t("models.fields.kind"),
          cell: (model) => (
            <Group gap={4} wrap="wrap">
              <Badge variant="light" color={model.kind === "rules" ? "teal" : "violet"}>
                {t(`models.kinds.${model.kind}`)}
              </Badge>
              {model.current ? (
                <Badge variant="filled" color="green">
                  {t("models.current")}
                </Badge>
              ) : null}
            </Group>
          ),
        },
        {
          key: "metrics",
          header: t("models.fields.metrics"),
          cell: (model) => {
            const entries = Object.entries(model.metrics).slice(0, SHOWN_METRICS);
            if (entries.length === 0) return <Text size="sm" c="dimmed">{t("models.noMetrics")}</Text>;
            return (
              <Stack gap={0}>
                {entries.map(([key, value]) => (
                  <Text key={key} size="xs">
                    <Text span c="dimmed" size="xs">
                      {key}
                    </Text>{" "}
                    {formatNumber(value, lang, 3)}
                  </Text>
                ))}
              </Stack>
            );
          },
        },
      ]}
    />
  );
}
