import { Paper, Stack } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { PageHeader } from "@/components/PageHeader";

import { usePatient, useUpdatePatient } from "../api/patients";
import { PatientForm } from "../components/PatientForm";

export function PatientEditPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const id = Number(useParams().patientId);
  const patient = usePatient(id);
  const update = useUpdatePatient(id);
  if (patient.isPending) return <Loading />;
  if (patient.error) return <ErrorAlert error={patient.error} />;
  return (
    <Stack gap="md">
      <PageHeader title={t("patients.edit")} subtitle={patient.data.name} />
      <Paper withBorder p="md" radius="md">
        <PatientForm
          initial={patient.data}
          submitLabel={t("common.save")}
          pending={update.isPending}
          error={update.error}
          onCancel={() => navigate(`/patients/${id}`)}
          onSubmit={(input) => update.mutate(input, { onSuccess: () => navigate(`/patients/${id}`) })}
        />
      </Paper>
    </Stack>
  );
}
