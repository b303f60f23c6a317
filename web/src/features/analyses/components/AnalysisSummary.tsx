import { Alert, Anchor, Button, Group, Paper, SimpleGrid, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";
import { formatDateTime } from "@/lib/format";

import { type AnalysisDetail, useCancelAnalysis, useRetryAnalysis } from "../api/analyses";

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" style={{ overflowWrap: "anywhere" }}>
        {children}
      </Text>
    </Stack>
  );
}

/** Who, what model and when; cancel while it waits or runs, retry after it failed. */
export function AnalysisSummary({ analysis, patientName }: { analysis: AnalysisDetail; patientName?: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const cancel = useCancelAnalysis(analysis.id);
  const retry = useRetryAnalysis(analysis.id);
  const status = analysis.status ?? "PENDING";
  const finishedAt = analysis.completed_at ?? analysis.failed_at ?? analysis.cancelled_at;
  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="md">
        <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="md">
          <Field label={t("analysis.patient")}>
            {analysis.patient ? (
              <Anchor component={Link} to={`/patients/${analysis.patient}`}>
                {patientName ?? `#${analysis.patient}`}
              </Anchor>
            ) : (
              "—"
            )}
          </Field>
          <Field label={t("analysis.model")}>
            {analysis.model_name ? `${analysis.model_name} ${analysis.model_version ?? ""}` : "—"}
          </Field>
          <Field label={t("analysis.created")}>{formatDateTime(analysis.created_at, lang)}</Field>
          <Field label={t("analysis.finished")}>{formatDateTime(finishedAt, lang)}</Field>
        </SimpleGrid>
        {analysis.error ? (
          <Alert color="red" variant="light" title={t("analysis.failedWith", { code: analysis.error.code })} role="alert">
            <Text size="sm" style={{ overflowWrap: "anywhere" }}>
              {analysis.error.message}
            </Text>
          </Alert>
        ) : null}
        <ErrorAlert error={cancel.error ?? retry.error} />
        {status === "PENDING" || status === "PROCESSING" || status === "FAILED" ? (
          <Group gap="xs">
            {status === "FAILED" ? (
              <Button variant="light" onClick={() => retry.mutate()} loading={retry.isPending}>
                {t("analysis.retry")}
              </Button>
            ) : (
              <Button variant="default" color="red" onClick={() => cancel.mutate()} loading={cancel.isPending}>
                {t("analysis.cancel")}
              </Button>
            )}
          </Group>
        ) : null}
      </Stack>
    </Paper>
  );
}
