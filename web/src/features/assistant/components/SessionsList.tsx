import { ActionIcon, Anchor, Group, Pagination, Paper, Stack, Text } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";
import { formatDateTime } from "@/lib/format";

import { type ChatSession, SESSIONS_PAGE_SIZE, useDeleteSession, usePatientName, useSessions } from "../api/assistant";

function PatientLine({ patientId }: { patientId: number }) {
  const { t } = useTranslation();
  const name = usePatientName(patientId);
  return (
    <Text size="xs" c="dimmed">
      {t("assistant.aboutPatient", { name: name.data ?? `#${patientId}` })}
    </Text>
  );
}

function SessionRow({ session }: { session: ChatSession }) {
  const { t, i18n } = useTranslation();
  const remove = useDeleteSession();
  return (
    <Paper withBorder p="sm" radius="md" data-testid="session">
      <Group justify="space-between" wrap="nowrap" gap="xs" align="flex-start">
        <Stack gap={2} style={{ minWidth: 0 }}>
          <Anchor component={Link} to={`/assistant/${session.id}`} fw={600} style={{ overflowWrap: "anywhere" }}>
            {session.title || t("assistant.untitled")}
          </Anchor>
          {session.patient ? <PatientLine patientId={session.patient} /> : null}
          <Text size="xs" c="dimmed">
            {formatDateTime(session.updated_at, i18n.resolvedLanguage ?? "en")}
          </Text>
        </Stack>
        <ActionIcon
          variant="subtle"
          color="red"
          aria-label={t("assistant.delete")}
          title={t("assistant.delete")}
          loading={remove.isPending}
          onClick={() => {
            if (window.confirm(t("assistant.deleteConfirm"))) remove.mutate(session.id);
          }}
        >
          ×
        </ActionIcon>
      </Group>
      <ErrorAlert error={remove.error} />
    </Paper>
  );
}

/** The user's chat sessions, most recently used first. */
export function SessionsList() {
  const { t } = useTranslation();
  const [page, setPage] = useState(1);
  const sessions = useSessions(page);
  const pages = Math.max(1, Math.ceil((sessions.data?.count ?? 0) / SESSIONS_PAGE_SIZE));
  return (
    <Stack gap="sm">
      <ErrorAlert error={sessions.error} />
      {sessions.data && sessions.data.results.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t("assistant.noSessions")}
        </Text>
      ) : null}
      {sessions.data?.results.map((session) => (
        <SessionRow key={session.id} session={session} />
      ))}
      {pages > 1 ? <Pagination total={pages} value={page} onChange={setPage} size="sm" /> : null}
    </Stack>
  );
}
