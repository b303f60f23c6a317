import { Alert, Badge, Group, List, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

import type { components } from "@/lib/api/schema";
import { formatNumber, formatProbability } from "@/lib/format";

import { FeatureChart } from "./FeatureChart";
import { FeaturesTable } from "./FeaturesTable";
import { ProbabilityBar } from "./ProbabilityBar";
import { SurvivalCurve } from "./SurvivalCurve";

type Rosmap = components["schemas"]["RosmapResult"];
type Paad = components["schemas"]["PaadResult"];

function Headline({ result }: { result: Rosmap | Paad }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  if ("predicted_class" in result) {
    return (
      <Stack gap="xs">
        <Group gap="sm">
          <Text size="sm" c="dimmed">
            {t("omics.predictedClass")}
          </Text>
          <Badge size="xl" color={result.predicted_class === "AD" ? "red" : "green"} data-testid="omics-class">
            {t(`omics.classes.${result.predicted_class}`, { defaultValue: result.predicted_class })}
          </Badge>
        </Group>
        {Object.entries(result.probabilities).map(([label, p]) => (
          <ProbabilityBar key={label} label={t(`omics.classes.${label}`, { defaultValue: label })} probability={p} />
        ))}
      </Stack>
    );
  }
  return (
    <Stack gap="xs">
      <Group gap="sm">
        <Text size="sm" c="dimmed">
          {t("omics.riskGroup")}
        </Text>
        <Badge size="xl" color={result.risk_group === "high" ? "red" : "green"} data-testid="omics-risk">
          {t(`omics.riskGroups.${result.risk_group}`, { defaultValue: result.risk_group })}
        </Badge>
      </Group>
      <SimpleGrid cols={{ base: 1, xs: 3 }}>
        <Text size="sm">
          {t("omics.riskScore")}: <b>{formatNumber(result.risk_score, lang, 2)}</b>
        </Text>
        <Text size="sm">
          {t("omics.riskPercentile")}: <b>{formatProbability(result.risk_percentile, lang, 0)}</b>
        </Text>
        <Text size="sm">
          {t("omics.medianSurvival")}:{" "}
          <b>
            {result.group_median_survival_days === null
              ? t("omics.notReached")
              : t("omics.days", { count: Math.round(result.group_median_survival_days) })}
          </b>
        </Text>
      </SimpleGrid>
      <Alert color="gray" variant="light" title={t("omics.evidence")}>
        {result.evidence}
      </Alert>
    </Stack>
  );
}

export function OmicsResult({ result }: { result: Rosmap | Paad }) {
  const { t } = useTranslation();
  return (
    <Stack gap="md">
      <Paper withBorder p="md" radius="md">
        <Stack gap="md">
          <Headline result={result} />
          <Group gap="xs">
            <Badge variant="light" color={result.confidence === "low" ? "orange" : "green"}>
              {t("omics.confidence", {
                value: t(`omics.confidenceLevels.${result.confidence}`, { defaultValue: result.confidence }),
              })}
            </Badge>
            {result.missing_layer ? (
              <Badge variant="light" color="orange">
                {t("omics.missingLayers", { layers: result.missing_layers.join(", ") })}
              </Badge>
            ) : null}
          </Group>
          {result.confidence_reasons.length > 0 ? (
            <List size="sm">
              {result.confidence_reasons.map((reason) => (
                <List.Item key={reason}>{reason}</List.Item>
              ))}
            </List>
          ) : null}
        </Stack>
      </Paper>
      {"survival_curve" in result && result.survival_curve.length > 0 ? (
        <Paper withBorder p="md" radius="md">
          <Stack gap="sm">
            <Title order={3} size="h4">
              {t("omics.survivalCurve")}
            </Title>
            <SurvivalCurve result={result} />
          </Stack>
        </Paper>
      ) : null}
      <Paper withBorder p="md" radius="md">
        <Stack gap="sm">
          <Title order={3} size="h4">
            {t("omics.topFeatures")}
          </Title>
          <FeatureChart features={result.top_features} />
          <FeaturesTable features={result.top_features} />
        </Stack>
      </Paper>
    </Stack>
  );
}
