import { Anchor, Badge, Breadcrumbs, Group, Paper, Stack } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { Disclaimer } from "@/components/Disclaimer";
import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { PageHeader } from "@/components/PageHeader";

import { useModelCard, useModelCatalog } from "../api/models";
import { Markdown } from "../components/Markdown";

/** One model version's card, rendered from its Markdown. */
export function ModelCardPage() {
  const { t } = useTranslation();
  const { name = "", version = "" } = useParams();
  const card = useModelCard(name, version);
  const catalog = useModelCatalog();
  const entry = catalog.data?.results.find((model) => model.version === version && (model.name === name || model.family === name));
  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/models" size="sm">
          {t("models.title")}
        </Anchor>
        <span>{name}</span>
      </Breadcrumbs>
      <PageHeader
        title={t("models.cardTitle", { name })}
        subtitle={version}
        actions={
          entry ? (
            <Group gap={4}>
              <Badge variant="light" color={entry.kind === "rules" ? "teal" : "violet"}>
                {t(`models.kinds.${entry.kind}`)}
              </Badge>
              {entry.current ? <Badge color="green">{t("models.current")}</Badge> : null}
            </Group>
          ) : null
        }
      />
      <Disclaimer />
      <ErrorAlert error={card.error} />
      {card.isPending ? (
        <Loading />
      ) : card.data ? (
        <Paper withBorder p="md" radius="md">
          <Markdown source={card.data} testId="model-card" />
        </Paper>
      ) : null}
    </Stack>
  );
}
