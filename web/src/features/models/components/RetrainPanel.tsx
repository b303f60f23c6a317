import { Alert, Anchor, Badge, Button, Group, NumberInput, Paper, Progress, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";
import { StatusBadge } from "@/components/StatusBadge";
import { ApiError } from "@/lib/api/errors";
import { formatDateTime } from "@/lib/format";

import { isFinished, progressFraction, useRetrainJob, useRetrainStatus, useStartRetrain } from "../api/models";

function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const messages = error.detail[field];
  return Array.isArray(messages) ? messages.join(" ") : undefined;
}

/**
 * Retraining the sequence model (ML engineers and administrators): a folder of training data on
 * the inference server, optional epochs and batch size. The run is an analysis (followed for its
 * status and error); its progress is the inference server's retrain status.
 */
export function RetrainPanel() {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const [path, setPath] = useState("");
  const [epochs, setEpochs] = useState<number | string>("");
  const [batchSize, setBatchSize] = useState<number | string>("");
  const [jobId, setJobId] = useState<number | null>(null);
  const start = useStartRetrain();
  const job = useRetrainJob(jobId);
  const watching = jobId !== null && !isFinished(job.data?.status);
  const status = useRetrainStatus(watching);
  const retrain = status.data;
  const fraction = progressFraction(retrain);
  const running = Boolean(retrain?.running) || watching;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    start.mutate(
      {
        training_data_path: path.trim(),
        epochs: typeof epochs === "number" ? epochs : undefined,
        batch_size: typeof batchSize === "number" ? batchSize : undefined,
      },
      { onSuccess: (queued) => setJobId(queued.analysis_id) },
    );
  };

  return (
    <Paper withBorder p="md" radius="md" data-testid="retrain-panel">
      <Stack gap="md">
        <Group justify="space-between" wrap="wrap">
          <Title order={3} size="h4">
            {t("models.retrain.title")}
          </Title>
          {retrain ? (
            <Badge variant="light" color={retrain.state === "failed" ? "red" : retrain.running ? "blue" : "gray"} data-testid="retrain-state">
              {t(`models.retrain.states.${retrain.state}`, { defaultValue: retrain.state })}
            </Badge>
          ) : null}
        </Group>
        <Text size="sm" c="dimmed">
          {t("models.retrain.help")}
        </Text>
        <form onSubmit={submit} noValidate>
          <Stack gap="sm">
            <ErrorAlert error={start.error} />
            <SimpleGrid cols={{ base: 1, sm: 3 }}>
              <TextInput
                label={t("models.retrain.path")}
                description={t("models.retrain.pathHint")}
                placeholder="/srv/cdss/training/sequence"
                required
                value={path}
                onChange={(event) => setPath(event.currentTarget.value)}
                error={fieldError(start.error, "training_data_path")}
                maxLength={1024}
              />
              <NumberInput label={t("models.retrain.epochs")} min={1} value={epochs} onChange={setEpochs} error={fieldError(start.error, "epochs")} allowDecimal={false} />
              <NumberInput
                label={t("models.retrain.batchSize")}
                min={1}
                value={batchSize}
                onChange={setBatchSize}
                error={fieldError(start.error, "batch_size")}
                allowDecimal={false}
              />
            </SimpleGrid>
            <Group justify="flex-end">
              <Button type="submit" loading={start.isPending} disabled={!path.trim() || running}>
                {t("models.retrain.start")}
              </Button>
            </Group>
          </Stack>
        </form>
        <ErrorAlert error={status.error} title={t("models.retrain.statusUnavailable")} />
        {retrain && retrain.state !== "idle" ? (
          <Stack gap={6} data-testid="retrain-progress">
            <Progress value={(fraction ?? 0) * 100} animated={retrain.running} aria-label={t("models.retrain.progress")} size="lg" />
            <Group justify="space-between" wrap="wrap" gap="xs">
              <Text size="sm">
                {fraction === null ? "—" : `${Math.round(fraction * 100)}%`}
                {retrain.message ? ` · ${retrain.message}` : ""}
              </Text>
              <Text size="xs" c="dimmed">
                {retrain.started_at ? t("models.retrain.started", { date: formatDateTime(retrain.started_at, lang) }) : null}
                {retrain.finished_at ? ` · ${t("models.retrain.finished", { date: formatDateTime(retrain.finished_at, lang) })}` : null}
              </Text>
            </Group>
            {retrain.version ? (
              <Text size="sm">
                {t(retrain.promoted ? "models.retrain.promoted" : "models.retrain.trained", { version: retrain.version })}
              </Text>
            ) : null}
          </Stack>
        ) : null}
        {jobId !== null ? (
          <Group gap="xs" wrap="wrap" data-testid="retrain-job">
            <Text size="sm">{t("models.retrain.job")}</Text>
            <Anchor component={Link} to={`/analyses/${jobId}`} size="sm">
              #{jobId}
            </Anchor>
            <StatusBadge status={job.data?.status} />
          </Group>
        ) : null}
        {job.data?.status === "FAILED" && job.data.error ? (
          <Alert color="red" variant="light" title={t("models.retrain.failed")} role="alert">
            <Text size="sm" style={{ overflowWrap: "anywhere" }}>
              {job.data.error.message}
            </Text>
          </Alert>
        ) : null}
        <ErrorAlert error={job.error} />
      </Stack>
    </Paper>
  );
}
