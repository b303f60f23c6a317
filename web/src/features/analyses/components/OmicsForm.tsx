import { Anchor, Button, Group, Select, Stack, Text } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { downloadFile } from "@/lib/api/download";

import { useSubmitAnalysis } from "../api/analyses";
import { choiceReady, type FileChoice, FileSource, resolveChoice } from "./FileSource";

const MODELS = {
  omics_rosmap: "rosmap",
  omics_paad_survival: "tcga_paad",
} as const;
type OmicsKind = keyof typeof MODELS;

export function OmicsForm({ patientId, onSubmitted }: { patientId: number; onSubmitted: (id: number) => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const submit = useSubmitAnalysis();
  const [kind, setKind] = useState<OmicsKind>("omics_rosmap");
  const [table, setTable] = useState<FileChoice>({ kind: "upload", file: null });
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const template = `/api/v1/omics/templates/${MODELS[kind]}.csv`;

  const start = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      if (table.kind === "upload") setProgress(0);
      const tableFile = await resolveChoice(table, patientId, "omics_table", setProgress);
      if (tableFile === null) return;
      // Stored now: a second try (the analysis refused) picks it instead of uploading it again.
      setTable({ kind: "existing", id: tableFile });
      void queryClient.invalidateQueries({ queryKey: ["patients", "detail", patientId, "files"] });
      const analysis = await submit.mutateAsync({ kind, patient: patientId, inputs: { table_file: tableFile } });
      onSubmitted(analysis.id);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
      setProgress(null);
    }
  };

  return (
    <form onSubmit={(event) => void start(event)} noValidate>
      <Stack gap="md">
        <Select
          label={t("omics.model")}
          value={kind}
          onChange={(value) => setKind((value as OmicsKind) ?? "omics_rosmap")}
          data={(Object.keys(MODELS) as OmicsKind[]).map((value) => ({ value, label: t(`kinds.${value}`) }))}
          allowDeselect={false}
          disabled={busy}
        />
        <Text size="sm">
          {t("omics.templateHint")}{" "}
          <Anchor
            component="button"
            type="button"
            onClick={() => void downloadFile(template, `${MODELS[kind]}-template.csv`).catch(setError)}
            data-testid="omics-template"
          >
            {t("omics.templateLink", { name: `${MODELS[kind]}.csv` })}
          </Anchor>
        </Text>
        <FileSource
          patientId={patientId}
          role="omics_table"
          label={t("omics.table")}
          description={t("omics.tableHint")}
          accept=".csv,.tsv,text/csv,text/tab-separated-values"
          required
          value={table}
          onChange={setTable}
          progress={progress}
          disabled={busy}
        />
        <ErrorAlert error={error} />
        <Group justify="flex-end">
          <Button type="submit" loading={busy} disabled={!choiceReady(table)}>
            {t("newAnalysis.submit")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
