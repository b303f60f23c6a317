import { Button, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";
import { PageHeader } from "@/components/PageHeader";

import { useCreateSession, usePatientName } from "../api/assistant";
import { SessionsList } from "../components/SessionsList";

/** The assistant: the user's sessions and a new one (about a patient when the link names one). */
export function AssistantPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const patientParam = Number(params.get("patient"));
  const patientId = Number.isInteger(patientParam) && patientParam > 0 ? patientParam : null;
  const patientName = usePatientName(patientId);
  const create = useCreateSession();
  const [title, setTitle] = useState("");

  const start = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { title: title.trim() || undefined, patient: patientId },
      { onSuccess: (session) => navigate(`/assistant/${session.id}`) },
    );
  };

  return (
    <Stack gap="md">
      <PageHeader title={t("assistant.title")} subtitle={t("assistant.intro")} />
      <Paper withBorder p="md" radius="md">
        <form onSubmit={start}>
          <Stack gap="sm">
            <Title order={3} size="h4">
              {t("assistant.newSession")}
            </Title>
            {patientId ? (
              <Text size="sm" data-testid="session-patient">
                {t("assistant.aboutPatient", { name: patientName.data ?? `#${patientId}` })}
              </Text>
            ) : (
              <Text size="xs" c="dimmed">
                {t("assistant.noPatientHint")}
              </Text>
            )}
            <TextInput
              label={t("assistant.sessionTitle")}
              placeholder={t("assistant.sessionTitlePlaceholder")}
              value={title}
              maxLength={200}
              onChange={(event) => setTitle(event.currentTarget.value)}
            />
            <ErrorAlert error={create.error} />
            <Button type="submit" loading={create.isPending} style={{ alignSelf: "flex-start" }}>
              {t("assistant.start")}
            </Button>
          </Stack>
        </form>
      </Paper>
      <Title order={3} size="h4">
        {t("assistant.sessions")}
      </Title>
      <SessionsList />
    </Stack>
  );
}
