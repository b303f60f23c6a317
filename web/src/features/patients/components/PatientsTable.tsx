import { Anchor, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { ResponsiveTable } from "@/components/ResponsiveTable";
import { formatDate, formatDateTime } from "@/lib/format";

import type { Patient } from "../api/patients";

export function PatientsTable({ patients }: { patients: Patient[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  if (patients.length === 0) {
    return (
      <Text c="dimmed" py="lg" ta="center">
        {t("patients.empty")}
      </Text>
    );
  }
  return (
    <ResponsiveTable
      testId="patients-table"
      striped
      rows={patients}
      rowKey={(patient) => patient.id}
      columns={[
        {
          key: "name",
          header: t("patients.fields.name"),
          cell: (patient) => (
            <Anchor component={Link} to={`/patients/${patient.id}`} fw={500}>
              {patient.name}
            </Anchor>
          ),
        },
        { key: "mrn", header: t("patients.fields.mrn"), cell: (patient) => patient.mrn },
        { key: "birth", header: t("patients.fields.birthDate"), cell: (patient) => formatDate(patient.birth_date, lang) },
        { key: "sex", header: t("patients.fields.sex"), cell: (patient) => t(`patients.sex.${patient.sex ?? "unknown"}`) },
        { key: "updated", header: t("patients.fields.updated"), cell: (patient) => formatDateTime(patient.updated_at, lang) },
      ]}
    />
  );
}
