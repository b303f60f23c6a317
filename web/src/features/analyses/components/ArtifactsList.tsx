import { Button, Paper, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { ResponsiveTable } from "@/components/ResponsiveTable";
import { downloadFile } from "@/lib/api/download";
import { formatBytes } from "@/lib/format";

import type { Artifact } from "../api/analyses";

/** Every file the analysis produced, each downloadable. */
export function ArtifactsList({ artifacts }: { artifacts: Artifact[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const download = (artifact: Artifact) => {
    setError(null);
    setBusy(artifact.name);
    downloadFile(artifact.url, artifact.name)
      .catch(setError)
      .finally(() => setBusy(null));
  };

  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="sm">
        <Title order={3} size="h4">
          {t("artifacts.title")}
        </Title>
        <ErrorAlert error={error} />
        {artifacts.length === 0 ? (
          <Text size="sm" c="dimmed">
            {t("artifacts.empty")}
          </Text>
        ) : (
          <ResponsiveTable
            testId="artifacts-table"
            rows={artifacts}
            rowKey={(artifact) => artifact.name}
            columns={[
              { key: "name", header: t("artifacts.name"), cell: (artifact) => artifact.name },
              { key: "type", header: t("artifacts.type"), cell: (artifact) => artifact.content_type },
              { key: "size", header: t("artifacts.size"), cell: (artifact) => formatBytes(artifact.size, lang) },
              {
                key: "download",
                header: "",
                cell: (artifact) => (
                  <Button size="compact-sm" variant="subtle" loading={busy === artifact.name} onClick={() => download(artifact)}>
                    {t("common.download")}
                  </Button>
                ),
              },
            ]}
          />
        )}
      </Stack>
    </Paper>
  );
}
