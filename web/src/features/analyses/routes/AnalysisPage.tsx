import { Anchor, Breadcrumbs, Group, Paper, Stack, Text } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { Disclaimer } from "@/components/Disclaimer";
import { ErrorAlert } from "@/components/ErrorAlert";
import { LiveIndicator } from "@/components/LiveIndicator";
import { Loading } from "@/components/Loading";
import { PageHeader } from "@/components/PageHeader";
import { StatusBadge } from "@/components/StatusBadge";
import { useAnalysisEvents } from "@/lib/realtime/useAnalysisEvents";

import { analysisKeys, useAnalysis, useAnalysisResult, usePatientSummary } from "../api/analyses";
import { DERIVED_KINDS, INTERPRETABLE_KINDS, interpretationKeys } from "../api/interpretation";
import { AnalysisSummary } from "../components/AnalysisSummary";
import { ArtifactsList } from "../components/ArtifactsList";
import { InterpretationPanel } from "../components/InterpretationPanel";
import { ResultView } from "../components/ResultView";

export function AnalysisPage() {
  const { t } = useTranslation();
  const id = Number(useParams().analysisId);
  const queryClient = useQueryClient();
  const live = useAnalysisEvents((event) => {
    if (event.analysis_id === id) void queryClient.invalidateQueries({ queryKey: analysisKeys.detail(id), exact: true });
    // A chained interpretation or report finished: the panel asks again for the latest.
    if (DERIVED_KINDS.has(event.kind) && event.status === "COMPLETED") {
      void queryClient.invalidateQueries({ queryKey: interpretationKeys.all(id) });
    }
  });
  // Polled only while the socket is not open (a proxy without WebSockets, a reconnect).
  const analysis = useAnalysis(id, live !== "open");
  // A change sent before this page's socket had subscribed (an analysis that finished while the
  // page loaded) never arrives: whenever the socket opens, the analysis is read again.
  useEffect(() => {
    if (live === "open") void queryClient.invalidateQueries({ queryKey: analysisKeys.detail(id), exact: true });
  }, [live, id, queryClient]);
  const completed = analysis.data?.status === "COMPLETED";
  const result = useAnalysisResult(id, completed);
  const patient = usePatientSummary(analysis.data?.patient);

  if (analysis.isPending) return <Loading />;
  if (analysis.error) return <ErrorAlert error={analysis.error} />;
  const data = analysis.data;
  const kindLabel = t(`kinds.${data.kind}`, { defaultValue: data.kind });

  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/patients" size="sm">
          {t("nav.patients")}
        </Anchor>
        {data.patient ? (
          <Anchor component={Link} to={`/patients/${data.patient}`} size="sm">
            {patient.data?.name ?? `#${data.patient}`}
          </Anchor>
        ) : null}
        <span>#{data.id}</span>
      </Breadcrumbs>
      <PageHeader
        title={t("analysis.title", { kind: kindLabel, id: data.id })}
        actions={
          <Group gap="xs">
            <StatusBadge status={data.status} />
            <LiveIndicator state={live} />
          </Group>
        }
      />
      <Disclaimer />
      <AnalysisSummary analysis={data} patientName={patient.data?.name} />
      {!completed && (data.status === "PENDING" || data.status === "PROCESSING") ? (
        <Paper withBorder p="md" radius="md">
          <Text size="sm" c="dimmed">
            {t(data.status === "PENDING" ? "analysis.waiting" : "analysis.running")}
          </Text>
        </Paper>
      ) : null}
      {completed ? (
        result.isPending ? (
          <Loading />
        ) : result.error ? (
          <ErrorAlert error={result.error} />
        ) : (
          <ResultView kind={data.kind} result={result.data} artifacts={data.artifacts} />
        )
      ) : null}
      {completed && INTERPRETABLE_KINDS.has(data.kind) ? <InterpretationPanel analysis={data} /> : null}
      {completed || data.artifacts.length > 0 ? <ArtifactsList artifacts={data.artifacts} /> : null}
    </Stack>
  );
}
