import { Anchor, Breadcrumbs, Paper, SegmentedControl, Stack } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { PageHeader } from "@/components/PageHeader";

import { usePatientSummary } from "../api/analyses";
import { CtForm } from "../components/CtForm";
import { OmicsForm } from "../components/OmicsForm";
import { SequenceForm } from "../components/SequenceForm";

const TYPES = ["sequence", "omics", "ct"] as const;
type AnalysisType = (typeof TYPES)[number];

function isType(value: string | null): value is AnalysisType {
  return value !== null && (TYPES as readonly string[]).includes(value);
}

export function NewAnalysisPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const patientId = Number(useParams().patientId);
  const [params, setParams] = useSearchParams();
  const requested = params.get("type");
  const type: AnalysisType = isType(requested) ? requested : "sequence";
  const patient = usePatientSummary(patientId);
  const submitted = (id: number) => navigate(`/analyses/${id}`);

  if (patient.isPending) return <Loading />;
  if (patient.error) return <ErrorAlert error={patient.error} />;

  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/patients" size="sm">
          {t("nav.patients")}
        </Anchor>
        <Anchor component={Link} to={`/patients/${patientId}`} size="sm">
          {patient.data.name}
        </Anchor>
      </Breadcrumbs>
      <PageHeader title={t("newAnalysis.title")} subtitle={t("newAnalysis.forPatient", { name: patient.data.name, mrn: patient.data.mrn })} />
      <SegmentedControl
        fullWidth
        value={type}
        onChange={(value) => setParams({ type: value }, { replace: true })}
        data={TYPES.map((value) => ({ value, label: t(`newAnalysis.types.${value}`) }))}
        aria-label={t("newAnalysis.type")}
      />
      <Paper withBorder p="md" radius="md">
        {type === "sequence" ? <SequenceForm patientId={patientId} onSubmitted={submitted} /> : null}
        {type === "omics" ? <OmicsForm patientId={patientId} onSubmitted={submitted} /> : null}
        {type === "ct" ? <CtForm patientId={patientId} onSubmitted={submitted} /> : null}
      </Paper>
    </Stack>
  );
}
