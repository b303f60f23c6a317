import { Paper, Stack } from "@mantine/core";
import { useTranslation } from "react-i18next";

import { Disclaimer } from "@/components/Disclaimer";
import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { PageHeader } from "@/components/PageHeader";
import { isModelManager } from "@/lib/auth/roles";
import { useCurrentUser } from "@/lib/auth/session";

import { useModelCatalog } from "../api/models";
import { ModelsTable } from "../components/ModelsTable";
import { RetrainPanel } from "../components/RetrainPanel";

/** Every shipped model version with its card; retraining for ML engineers and administrators. */
export function ModelsPage() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const catalog = useModelCatalog();
  return (
    <Stack gap="md">
      <PageHeader title={t("models.title")} subtitle={t("models.subtitle")} />
      <Disclaimer />
      <ErrorAlert error={catalog.error} />
      <Paper withBorder radius="md">{catalog.isPending ? <Loading /> : <ModelsTable models={catalog.data?.results ?? []} />}</Paper>
      {isModelManager(me.data) ? <RetrainPanel /> : null}
    </Stack>
  );
}
