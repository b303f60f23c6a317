import { Button, Group, Select, SimpleGrid, Stack, Textarea, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { ApiError } from "@/lib/api/errors";
import { useCurrentUser } from "@/lib/auth/session";

import type { Patient, PatientInput } from "../api/patients";
import { CareTeamField } from "./CareTeamField";

const SEXES = ["female", "male", "other", "unknown"] as const;

/** The messages the API gave for one field (its 400 lists them in detail.<field>). */
function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const messages = error.detail[field];
  return Array.isArray(messages) ? messages.join(" ") : undefined;
}

interface Props {
  initial?: Patient;
  submitLabel: string;
  pending: boolean;
  error: unknown;
  onSubmit: (input: PatientInput) => void;
  onCancel: () => void;
}

export function PatientForm({ initial, submitLabel, pending, error, onSubmit, onCancel }: Props) {
  const { t } = useTranslation();
  const [mrn, setMrn] = useState(initial?.mrn ?? "");
  const [name, setName] = useState(initial?.name ?? "");
  const [birthDate, setBirthDate] = useState(initial?.birth_date ?? "");
  const [sex, setSex] = useState<string>(initial?.sex ?? "unknown");
  const [notes, setNotes] = useState(initial?.notes ?? "");
  const [careTeam, setCareTeam] = useState<number[]>(initial?.care_team ?? []);
  const me = useCurrentUser();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit({
      mrn: mrn.trim(),
      name: name.trim(),
      birth_date: birthDate || null,
      sex: sex as PatientInput["sex"],
      notes,
      // A new patient's creator joins its team on the server; an edit sends the team as shown.
      ...(initial || careTeam.length ? { care_team: careTeam } : {}),
    });
  };

  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ErrorAlert error={error} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label={t("patients.fields.mrn")}
            description={t("patients.fields.mrnHint")}
            required
            value={mrn}
            onChange={(event) => setMrn(event.currentTarget.value)}
            error={fieldError(error, "mrn")}
            maxLength={64}
          />
          <TextInput
            label={t("patients.fields.name")}
            required
            value={name}
            onChange={(event) => setName(event.currentTarget.value)}
            error={fieldError(error, "name")}
            maxLength={200}
          />
          <TextInput
            type="date"
            label={t("patients.fields.birthDate")}
            value={birthDate}
            onChange={(event) => setBirthDate(event.currentTarget.value)}
            error={fieldError(error, "birth_date")}
          />
          <Select
            label={t("patients.fields.sex")}
            value={sex}
            onChange={(value) => setSex(value ?? "unknown")}
            data={SEXES.map((value) => ({ value, label: t(`patients.sex.${value}`) }))}
            allowDeselect={false}
            error={fieldError(error, "sex")}
          />
        </SimpleGrid>
        <CareTeamField value={careTeam} onChange={setCareTeam} meId={initial ? me.data?.id : undefined} error={fieldError(error, "care_team")} />
        <Textarea
          label={t("patients.fields.notes")}
          value={notes}
          onChange={(event) => setNotes(event.currentTarget.value)}
          autosize
          minRows={3}
          maxLength={10000}
          error={fieldError(error, "notes")}
        />
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onCancel}>
            {t("common.cancel")}
          </Button>
          <Button type="submit" loading={pending} disabled={!mrn.trim() || !name.trim()}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
