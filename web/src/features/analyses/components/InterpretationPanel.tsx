import { Alert, Badge, Button, Group, Loader, Paper, Stack, Text, Title } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { formatDateTime } from "@/lib/format";

import type { AnalysisDetail } from "../api/analyses";
import {
  downloadReport,
  interpretationKeys,
  isLanguage,
  REPORT_LANGUAGES,
  type ReportLanguage,
  useInterpretation,
  useJobStatus,
  useRequestInterpretation,
  useRequestReport,
} from "../api/interpretation";

const FINISHED = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/** The interpretation in the interface's language, labelled AI-generated or rule-based. */
export function InterpretationPanel({ analysis }: { analysis: AnalysisDetail }) {
  const { t, i18n } = useTranslation();
  const lang: ReportLanguage = isLanguage(i18n.resolvedLanguage) ? i18n.resolvedLanguage : "en";
  const queryClient = useQueryClient();
  const [jobId, setJobId] = useState<number | null>(null);
  const job = useJobStatus(jobId);
  const jobPending = jobId !== null && !FINISHED.has(job.data?.status ?? "PENDING");
  const interpretation = useInterpretation(analysis.id, lang, {
    enabled: true,
    // The server says when one is on its way (chained at completion, or asked for): polled then.
    poll: jobPending,
  });
  const request = useRequestInterpretation(analysis.id, lang);

  const jobStatus = job.data?.status;
  useEffect(() => {
    if (jobStatus && FINISHED.has(jobStatus)) {
      void queryClient.invalidateQueries({ queryKey: interpretationKeys.all(analysis.id) });
    }
  }, [jobStatus, analysis.id, queryClient]);

  const ask = () => {
    request.mutate(undefined, { onSuccess: (queued) => setJobId(queued.id) });
  };
  const data = interpretation.data?.interpretation;
  const waiting = jobPending || interpretation.data?.onItsWay === true;

  return (
    <Paper withBorder p="md" radius="md" data-testid="interpretation-panel">
      <Stack gap="sm">
        <Group justify="space-between" gap="xs">
          <Title order={3} size="h4">
            {t("interpretation.title")}
          </Title>
          {data ? (
            <Badge size="lg" variant="filled" tt="none" maw="100%" color={data.generated_by === "ai" ? "violet" : "teal"} data-testid="interpretation-label">
              {data.label || t(`interpretation.generatedBy.${data.generated_by}`)}
            </Badge>
          ) : null}
        </Group>
        <ErrorAlert error={interpretation.error ?? request.error} />
        {interpretation.isPending ? <Loader size="sm" /> : null}
        {data ? (
          <>
            <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
              {data.text}
            </Text>
            <Text size="xs" c="dimmed">
              {t("interpretation.provenance", {
                provider: data.provider || "—",
                model: data.model || "—",
                date: formatDateTime(data.created_at, lang),
              })}
            </Text>
            {data.guard_outcome === "fell_back" ? (
              <Alert color="yellow" variant="light">
                <Text size="xs">{t("interpretation.fellBack")}</Text>
              </Alert>
            ) : null}
          </>
        ) : null}
        {data === null ? (
          <Text size="sm" c="dimmed" data-testid="interpretation-missing">
            {t(waiting ? "interpretation.pending" : "interpretation.none")}
          </Text>
        ) : null}
        {waiting ? (
          <Group gap="xs">
            <Loader size="xs" />
            <Text size="xs" c="dimmed">
              {t("interpretation.updating")}
            </Text>
          </Group>
        ) : null}
        <Group gap="xs">
          <Button size="compact-sm" variant="light" onClick={ask} loading={request.isPending} disabled={jobPending}>
            {t(data ? "interpretation.regenerate" : "interpretation.generate")}
          </Button>
          {data === null ? (
            <Button size="compact-sm" variant="subtle" onClick={() => void interpretation.refetch()}>
              {t("interpretation.checkAgain")}
            </Button>
          ) : null}
        </Group>
        <ReportDownloads analysisId={analysis.id} />
      </Stack>
    </Paper>
  );
}

/** The PDF reports, Korean and English: a download, or "not ready yet" with a button to make one. */
export function ReportDownloads({ analysisId }: { analysisId: number }) {
  const { t } = useTranslation();
  return (
    <Stack gap="xs" data-testid="report-downloads">
      <Text size="sm" fw={600}>
        {t("reports.title")}
      </Text>
      {REPORT_LANGUAGES.map((lang) => (
        <ReportRow key={lang} analysisId={analysisId} lang={lang} />
      ))}
    </Stack>
  );
}

function ReportRow({ analysisId, lang }: { analysisId: number; lang: ReportLanguage }) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [jobId, setJobId] = useState<number | null>(null);
  const job = useJobStatus(jobId);
  const request = useRequestReport(analysisId);
  const generating = jobId !== null && !FINISHED.has(job.data?.status ?? "PENDING");

  const download = () => {
    setError(null);
    setBusy(true);
    downloadReport(analysisId, lang)
      .then((found) => setMissing(!found))
      .catch(setError)
      .finally(() => setBusy(false));
  };
  const generate = () => {
    request.mutate(lang, {
      onSuccess: (queued) => {
        setJobId(queued.id);
        setMissing(false);
      },
    });
  };

  return (
    <Stack gap={4}>
      <Group gap="xs" wrap="wrap">
        <Button size="compact-sm" variant="default" loading={busy} onClick={download} data-testid={`report-${lang}`}>
          {t(`reports.download.${lang}`)}
        </Button>
        {missing || generating ? (
          <Button size="compact-sm" variant="subtle" onClick={generate} loading={request.isPending} disabled={generating}>
            {t("reports.generate")}
          </Button>
        ) : null}
      </Group>
      {missing ? (
        <Text size="xs" c="dimmed">
          {t("reports.notReady")}
        </Text>
      ) : null}
      {generating ? (
        <Group gap="xs">
          <Loader size="xs" />
          <Text size="xs" c="dimmed">
            {t("reports.generating")}
          </Text>
        </Group>
      ) : null}
      {jobId !== null && job.data?.status === "COMPLETED" ? (
        <Text size="xs" c="teal">
          {t("reports.ready")}
        </Text>
      ) : null}
      <ErrorAlert error={error ?? request.error} />
    </Stack>
  );
}
