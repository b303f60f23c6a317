import { Button, Group, Stack, Text } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";

import { useSubmitAnalysis } from "../api/analyses";
import { choiceReady, type FileChoice, FileSource, resolveChoice } from "./FileSource";

const CT_ACCEPT = ".nii,.nii.gz,.gz,.zip,application/gzip,application/zip";

/** A CT analysis: the volume (NIfTI or a zipped DICOM series) and, optionally, a segmentation. */
export function CtForm({ patientId, onSubmitted }: { patientId: number; onSubmitted: (id: number) => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const submit = useSubmitAnalysis();
  const [volume, setVolume] = useState<FileChoice>({ kind: "upload", file: null });
  const [segmentation, setSegmentation] = useState<FileChoice>({ kind: "upload", file: null });
  const [volumeProgress, setVolumeProgress] = useState<number | null>(null);
  const [segProgress, setSegProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const start = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      if (volume.kind === "upload") setVolumeProgress(0);
      const volumeFile = await resolveChoice(volume, patientId, "ct_volume", setVolumeProgress).catch(
        (failed: unknown) => {
          setVolumeProgress(null); // the refusal says why; no "100% uploaded" beside it
          throw failed;
        },
      );
      if (volumeFile === null) return;
      // Stored now: a second try (after a failed segmentation upload) must not send it again.
      setVolume({ kind: "existing", id: volumeFile });
      const hasSegmentation = choiceReady(segmentation);
      if (hasSegmentation && segmentation.kind === "upload") setSegProgress(0);
      const segmentationFile = hasSegmentation
        ? await resolveChoice(segmentation, patientId, "segmentation", setSegProgress).catch((failed: unknown) => {
            setSegProgress(null);
            throw failed;
          })
        : null;
      if (segmentationFile !== null) setSegmentation({ kind: "existing", id: segmentationFile });
      // Files stored so far show up on the patient's page whatever happens next.
      void queryClient.invalidateQueries({ queryKey: ["patients", "detail", patientId, "files"] });
      const analysis = await submit.mutateAsync({
        kind: "ct",
        patient: patientId,
        inputs: segmentationFile === null ? { volume_file: volumeFile } : { volume_file: volumeFile, segmentation_file: segmentationFile },
      });
      onSubmitted(analysis.id);
    } catch (caught) {
      setError(caught);
      void queryClient.invalidateQueries({ queryKey: ["patients", "detail", patientId, "files"] });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(event) => void start(event)} noValidate>
      <Stack gap="lg">
        <FileSource
          patientId={patientId}
          role="ct_volume"
          label={t("ct.volume")}
          description={t("ct.volumeHint")}
          accept={CT_ACCEPT}
          required
          value={volume}
          onChange={(choice) => {
            setVolume(choice);
            setVolumeProgress(null);
          }}
          progress={volumeProgress}
          disabled={busy}
        />
        <FileSource
          patientId={patientId}
          role="segmentation"
          label={t("ct.segmentation")}
          description={t("ct.segmentationHint")}
          accept={CT_ACCEPT}
          value={segmentation}
          onChange={(choice) => {
            setSegmentation(choice);
            setSegProgress(null);
          }}
          progress={segProgress}
          disabled={busy}
        />
        <Text size="xs" c="dimmed">
          {t("ct.duration")}
        </Text>
        <ErrorAlert error={error} />
        <Group justify="flex-end">
          <Button type="submit" loading={busy} disabled={!choiceReady(volume)}>
            {t("newAnalysis.submit")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
