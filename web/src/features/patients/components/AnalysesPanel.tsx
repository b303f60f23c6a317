import { Anchor, Group, Pagination, Paper, Stack, Text, Title } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";
import { LiveIndicator } from "@/components/LiveIndicator";
import { ResponsiveTable } from "@/components/ResponsiveTable";
import { StatusBadge } from "@/components/StatusBadge";
import { formatDateTime } from "@/lib/format";
import { useAnalysisEvents } from "@/lib/realtime/useAnalysisEvents";

import { PAGE_SIZE, patientKeys, usePatientAnalyses } from "../api/patients";

/** The patient's analyses, newest first; their statuses follow the WebSocket. */
export function AnalysesPanel({ patientId }: { patientId: number }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const queryClient = useQueryClient();
  const [page, setPage] = useState(1);
  const analyses = usePatientAnalyses(patientId, page);
  const live = useAnalysisEvents((event) => {
    if (event.patient_id === patientId) void queryClient.invalidateQueries({ queryKey: patientKeys.analyses(patientId) });
  });

  // Interpretations and reports are left out by the API (exclude_kind), so paging counts only these.
  const rows = analyses.data?.results ?? [];
  const pages = Math.max(1, Math.ceil((analyses.data?.count ?? 0) / PAGE_SIZE));
  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="md">
        <Group justify="space-between">
          <Title order={3} size="h4">
            {t("analyses.title")}
          </Title>
          <LiveIndicator state={live} />
        </Group>
        <ErrorAlert error={analyses.error} />
        {analyses.data && rows.length === 0 ? (
          <Text c="dimmed" size="sm">
            {t("analyses.empty")}
          </Text>
        ) : null}
        {rows.length > 0 ? (
          <ResponsiveTable
            testId="analyses-table"
            rows={rows}
            rowKey={(analysis) => analysis.id}
            columns={[
              {
                key: "kind",
                header: t("analyses.kind"),
                cell: (analysis) => (
                  <Anchor component={Link} to={`/analyses/${analysis.id}`} data-analysis-id={analysis.id}>
                    #{analysis.id} {t(`kinds.${analysis.kind}`, { defaultValue: analysis.kind })}
                  </Anchor>
                ),
              },
              { key: "status", header: t("analyses.status"), cell: (analysis) => <StatusBadge status={analysis.status} /> },
              { key: "created", header: t("analyses.created"), cell: (analysis) => formatDateTime(analysis.created_at, lang) },
              {
                key: "model",
                header: t("analyses.model"),
                cell: (analysis) => (
                  <Text size="xs" c="dimmed" component="span">
                    {analysis.model_version || "—"}
                  </Text>
                ),
              },
            ]}
          />
        ) : null}
        {pages > 1 ? <Pagination total={pages} value={page} onChange={setPage} size="sm" /> : null}
      </Stack>
    </Paper>
  );
}
