import { Button, FileButton, Group, Select, Stack, Text, Textarea } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";

import { useSubmitAnalysis } from "../api/analyses";

const SEQ_TYPES = ["auto", "protein", "dna", "rna"] as const;
type SeqType = (typeof SEQ_TYPES)[number];

/** The inputs of a sequence_batch analysis for pasted text: FASTA as it is, a bare sequence as one item. */
export function sequenceInputs(text: string, seqType: SeqType) {
  const trimmed = text.trim();
  if (trimmed.startsWith(">")) return { fasta: trimmed, seq_type: seqType };
  return { items: [{ id: "query", sequence: trimmed.replace(/\s+/g, ""), seq_type: seqType }] };
}

export function SequenceForm({ patientId, onSubmitted }: { patientId: number; onSubmitted: (id: number) => void }) {
  const { t } = useTranslation();
  const submit = useSubmitAnalysis();
  const [text, setText] = useState("");
  const [seqType, setSeqType] = useState<SeqType>("auto");
  const [fileName, setFileName] = useState<string | null>(null);

  const loadFile = async (file: File | null) => {
    if (!file) return;
    setText(await file.text());
    setFileName(file.name);
  };

  const start = (event: FormEvent) => {
    event.preventDefault();
    submit.mutate(
      { kind: "sequence_batch", patient: patientId, inputs: sequenceInputs(text, seqType) },
      { onSuccess: (analysis) => onSubmitted(analysis.id) },
    );
  };

  return (
    <form onSubmit={start} noValidate>
      <Stack gap="md">
        <Textarea
          label={t("sequence.input")}
          description={t("sequence.inputHint")}
          value={text}
          onChange={(event) => {
            setText(event.currentTarget.value);
            setFileName(null);
          }}
          autosize
          minRows={6}
          maxRows={16}
          classNames={{ input: "cdss-sequence" }}
          spellCheck={false}
          required
        />
        <Group gap="sm" wrap="wrap" align="flex-end">
          <FileButton onChange={(file) => void loadFile(file)} accept=".fasta,.fa,.faa,.fna,.ffn,.txt,text/plain">
            {(props) => (
              <Button variant="default" {...props}>
                {t("sequence.loadFasta")}
              </Button>
            )}
          </FileButton>
          {fileName ? (
            <Text size="sm" c="dimmed">
              {t("sequence.loaded", { name: fileName })}
            </Text>
          ) : null}
          <Select
            label={t("sequence.seqType")}
            value={seqType}
            onChange={(value) => setSeqType((value as SeqType) ?? "auto")}
            data={SEQ_TYPES.map((value) => ({ value, label: t(`sequence.seqTypes.${value}`) }))}
            allowDeselect={false}
            w={160}
          />
        </Group>
        <ErrorAlert error={submit.error} />
        <Group justify="flex-end">
          <Button type="submit" loading={submit.isPending} disabled={!text.trim()}>
            {t("newAnalysis.submit")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
