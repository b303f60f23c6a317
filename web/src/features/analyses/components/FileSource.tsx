import { FileInput, Progress, SegmentedControl, Select, Stack, Text } from "@mantine/core";
import { useId } from "@mantine/hooks";
import { useTranslation } from "react-i18next";

import type { FileRole } from "@/lib/api/upload";
import { formatBytes } from "@/lib/format";

import { uploadForAnalysis, usePatientFilesOfRole } from "../api/analyses";

export type FileChoice = { kind: "upload"; file: File | null } | { kind: "existing"; id: number | null };

export function choiceReady(choice: FileChoice): boolean {
  return choice.kind === "upload" ? choice.file !== null : choice.id !== null;
}

/** The file id an analysis input names: the chosen stored file, or the new one after its upload. */
export async function resolveChoice(
  choice: FileChoice,
  patientId: number,
  role: FileRole,
  onProgress: (fraction: number) => void,
): Promise<number | null> {
  if (choice.kind === "existing") return choice.id;
  if (!choice.file) return null;
  const stored = await uploadForAnalysis(patientId, role, choice.file, { onProgress });
  return stored.id;
}

interface Props {
  patientId: number;
  role: FileRole;
  label: string;
  description?: string;
  accept?: string;
  required?: boolean;
  value: FileChoice;
  onChange: (choice: FileChoice) => void;
  /** 0-1 while this file uploads; null otherwise. */
  progress: number | null;
  disabled?: boolean;
}

/** Pick a file for an analysis input: upload a new one, or reuse one already stored for the patient. */
export function FileSource({ patientId, role, label, description, accept, required, value, onChange, progress, disabled }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const existing = usePatientFilesOfRole(patientId, role);
  const stored = existing.data?.results ?? [];
  const labelId = useId();
  const inputId = useId();
  return (
    <Stack gap={6}>
      <Text size="sm" fw={500} id={labelId}>
        {label}
        {required ? <span aria-hidden> *</span> : null}
      </Text>
      {description ? (
        <Text size="xs" c="dimmed">
          {description}
        </Text>
      ) : null}
      {stored.length > 0 ? (
        <SegmentedControl
          size="xs"
          value={value.kind}
          disabled={disabled}
          onChange={(kind) => onChange(kind === "upload" ? { kind: "upload", file: null } : { kind: "existing", id: null })}
          data={[
            { value: "upload", label: t("newAnalysis.uploadNew") },
            { value: "existing", label: t("newAnalysis.useStored") },
          ]}
          aria-label={label}
        />
      ) : null}
      {value.kind === "upload" ? (
        <FileInput
          // Named by the label and its own text (the chosen file): a screen reader hears both,
          // and the visible text is part of the name (WCAG 2.5.3, axe-core's label-content-name-mismatch).
          id={inputId}
          aria-labelledby={`${labelId} ${inputId}`}
          placeholder={t("files.choose")}
          accept={accept}
          value={value.file}
          onChange={(file) => onChange({ kind: "upload", file })}
          clearable
          clearButtonProps={{ "aria-label": t("files.clear") }}
          disabled={disabled}
        />
      ) : (
        <Select
          aria-label={label}
          placeholder={t("newAnalysis.pickStored")}
          value={value.id === null ? null : String(value.id)}
          onChange={(id) => onChange({ kind: "existing", id: id === null ? null : Number(id) })}
          data={stored.map((file) => ({ value: String(file.id), label: `${file.name} (${formatBytes(file.size, lang)})` }))}
          disabled={disabled}
        />
      )}
      {progress !== null ? (
        <Stack gap={2}>
          <Progress value={progress * 100} animated={progress < 1} aria-label={t("files.uploading")} data-testid={`progress-${role}`} />
          <Text size="xs" c="dimmed">
            {t("newAnalysis.uploadProgress", { percent: Math.round(progress * 100) })}
          </Text>
        </Stack>
      ) : null}
    </Stack>
  );
}
