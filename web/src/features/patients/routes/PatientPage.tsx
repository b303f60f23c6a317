import { Anchor, Breadcrumbs, Button, Menu, Stack } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { PageHeader } from "@/components/PageHeader";

import { usePatient } from "../api/patients";
import { AnalysesPanel } from "../components/AnalysesPanel";
import { FilesPanel } from "../components/FilesPanel";
import { PatientDetails } from "../components/PatientDetails";

const ANALYSIS_TYPES = ["sequence", "omics", "ct"] as const;

export function PatientPage() {
  const { t } = useTranslation();
  const id = Number(useParams().patientId);
  const patient = usePatient(id);

  if (patient.isPending) return <Loading />;
  if (patient.error) return <ErrorAlert error={patient.error} />;

  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/patients" size="sm">
          {t("nav.patients")}
        </Anchor>
        <span>{patient.data.mrn}</span>
      </Breadcrumbs>
      <PageHeader
        title={patient.data.name}
        subtitle={t("patients.mrnLabel", { mrn: patient.data.mrn })}
        actions={
          <>
            <Button variant="light" component={Link} to={`/assistant?patient=${id}`}>
              {t("assistant.askAboutPatient")}
            </Button>
            <Button variant="default" component={Link} to={`/patients/${id}/edit`}>
              {t("common.edit")}
            </Button>
            <Menu position="bottom-end">
              <Menu.Target>
                <Button>{t("analyses.new")}</Button>
              </Menu.Target>
              <Menu.Dropdown>
                {ANALYSIS_TYPES.map((type) => (
                  <Menu.Item key={type} component={Link} to={`/patients/${id}/analyses/new?type=${type}`}>
                    {t(`newAnalysis.types.${type}`)}
                  </Menu.Item>
                ))}
              </Menu.Dropdown>
            </Menu>
          </>
        }
      />
      <PatientDetails patient={patient.data} />
      <AnalysesPanel patientId={id} />
      <FilesPanel patientId={id} />
    </Stack>
  );
}
