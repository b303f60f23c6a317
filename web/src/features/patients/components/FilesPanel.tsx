import { Button, FileInput, Group, Pagination, Paper, Progress, Select, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { ResponsiveTable } from "@/components/ResponsiveTable";
import { downloadFile } from "@/lib/api/download";
import type { FileRole } from "@/lib/api/upload";
import { formatBytes, formatDateTime } from "@/lib/format";

import { PAGE_SIZE, usePatientFiles, useUploadPatientFile } from "../api/patients";

const ROLES: FileRole[] = ["ct_volume", "segmentation", "omics_table", "document"];

function UploadForm({ patientId }: { patientId: number }) {
  const { t } = useTranslation();
  const upload = useUploadPatientFile(patientId);
  const [role, setRole] = useState<FileRole>("document");
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState(0);

  const start = () => {
    if (!file) return;
    setProgress(0);
    upload.mutate(
      { role, file, onProgress: setProgress },
      {
        onSuccess: () => {
          setFile(null);
          setProgress(0);
        },
      },
    );
  };

  return (
    <Stack gap="xs">
      <Group align="flex-end" gap="sm" wrap="wrap">
        <Select
          label={t("files.role")}
          value={role}
          onChange={(value) => setRole((value as FileRole) ?? "document")}
          data={ROLES.map((value) => ({ value, label: t(`files.roles.${value}`) }))}
          allowDeselect={false}
          w={{ base: "100%", xs: 200 }}
        />
        <FileInput
          label={t("files.file")}
          placeholder={t("files.choose")}
          value={file}
          onChange={setFile}
          clearable
          style={{ flex: 1, minWidth: 200 }}
        />
        <Button onClick={start} disabled={!file} loading={upload.isPending}>
          {t("files.upload")}
        </Button>
      </Group>
      {upload.isPending ? (
        <Progress value={progress * 100} animated aria-label={t("files.uploading")} />
      ) : null}
      <ErrorAlert error={upload.error} title={t("files.uploadFailed")} />
    </Stack>
  );
}

export function FilesPanel({ patientId }: { patientId: number }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const [page, setPage] = useState(1);
  const files = usePatientFiles(patientId, page);
  const [downloadError, setDownloadError] = useState<unknown>(null);

  const download = (id: number, name: string) => {
    setDownloadError(null);
    downloadFile(`/api/v1/files/${id}/content`, name).catch(setDownloadError);
  };

  const pages = Math.max(1, Math.ceil((files.data?.count ?? 0) / PAGE_SIZE));
  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="md">
        <Title order={3} size="h4">
          {t("files.title")}
        </Title>
        <UploadForm patientId={patientId} />
        <ErrorAlert error={files.error ?? downloadError} />
        {files.data && files.data.results.length === 0 ? (
          <Text c="dimmed" size="sm">
            {t("files.empty")}
          </Text>
        ) : null}
        {files.data && files.data.results.length > 0 ? (
          <ResponsiveTable
            testId="files-table"
            rows={files.data.results}
            rowKey={(file) => file.id}
            columns={[
              { key: "name", header: t("files.name"), cell: (file) => file.name },
              { key: "role", header: t("files.role"), cell: (file) => t(`files.roles.${file.role}`) },
              { key: "size", header: t("files.size"), cell: (file) => formatBytes(file.size, lang) },
              { key: "uploaded", header: t("files.uploaded"), cell: (file) => formatDateTime(file.created_at, lang) },
              {
                key: "download",
                header: "",
                cell: (file) => (
                  <Button size="compact-sm" variant="subtle" onClick={() => download(file.id, file.name)}>
                    {t("common.download")}
                  </Button>
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
