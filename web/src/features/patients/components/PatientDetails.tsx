import { Paper, SimpleGrid, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

import { formatDate, formatDateTime } from "@/lib/format";

import type { Patient } from "../api/patients";
import { CareTeamList } from "./CareTeamList";

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }}>
        {children}
      </Text>
    </Stack>
  );
}

export function PatientDetails({ patient }: { patient: Patient }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  return (
    <Paper withBorder p="md" radius="md">
      <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="md">
        <Field label={t("patients.fields.mrn")}>{patient.mrn}</Field>
        <Field label={t("patients.fields.birthDate")}>{formatDate(patient.birth_date, lang)}</Field>
        <Field label={t("patients.fields.sex")}>{t(`patients.sex.${patient.sex ?? "unknown"}`)}</Field>
        <Field label={t("patients.fields.created")}>{formatDateTime(patient.created_at, lang)}</Field>
        <Field label={t("patients.fields.updated")}>{formatDateTime(patient.updated_at, lang)}</Field>
      </SimpleGrid>
      <Stack mt="md" gap={4}>
        <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
          {t("patients.fields.careTeam")}
        </Text>
        <CareTeamList ids={patient.care_team} />
      </Stack>
      {patient.notes ? (
        <Stack mt="md" gap={0}>
          <Field label={t("patients.fields.notes")}>{patient.notes}</Field>
        </Stack>
      ) : null}
    </Paper>
  );
}
