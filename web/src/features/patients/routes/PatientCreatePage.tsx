import { Paper, Stack } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";

import { PageHeader } from "@/components/PageHeader";

import { useCreatePatient } from "../api/patients";
import { PatientForm } from "../components/PatientForm";

export function PatientCreatePage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const create = useCreatePatient();
  return (
    <Stack gap="md">
      <PageHeader title={t("patients.new")} subtitle={t("patients.newHint")} />
      <Paper withBorder p="md" radius="md">
        <PatientForm
          submitLabel={t("patients.create")}
          pending={create.isPending}
          error={create.error}
          onCancel={() => navigate("/patients")}
          onSubmit={(input) => create.mutate(input, { onSuccess: (patient) => navigate(`/patients/${patient.id}`) })}
        />
      </Paper>
    </Stack>
  );
}
