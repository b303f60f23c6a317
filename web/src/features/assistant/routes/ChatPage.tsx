import { Anchor, Breadcrumbs, Button, Group, Stack, TextInput } from "@mantine/core";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { Disclaimer } from "@/components/Disclaimer";
import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { PageHeader } from "@/components/PageHeader";

import { usePatientName, useRenameSession, useSession } from "../api/assistant";
import { ChatView } from "../components/ChatView";

/** One chat session: its title (renamable), the patient it is about, the conversation. */
export function ChatPage() {
  const { t } = useTranslation();
  const id = Number(useParams().sessionId);
  const session = useSession(id);
  const patientName = usePatientName(session.data?.patient);
  const rename = useRenameSession(id);
  const [editing, setEditing] = useState<string | null>(null);

  if (session.isPending) return <Loading />;
  if (session.error) return <ErrorAlert error={session.error} />;
  const data = session.data;

  const save = (event: FormEvent) => {
    event.preventDefault();
    if (editing === null) return;
    rename.mutate(editing.trim(), { onSuccess: () => setEditing(null) });
  };

  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/assistant" size="sm">
          {t("assistant.title")}
        </Anchor>
        <span>#{data.id}</span>
      </Breadcrumbs>
      {editing === null ? (
        <PageHeader
          title={data.title || t("assistant.untitled")}
          subtitle={
            data.patient ? (
              <Anchor component={Link} to={`/patients/${data.patient}`} size="sm">
                {t("assistant.aboutPatient", { name: patientName.data ?? `#${data.patient}` })}
              </Anchor>
            ) : undefined
          }
          actions={
            <Button variant="default" size="compact-sm" onClick={() => setEditing(data.title)}>
              {t("assistant.rename")}
            </Button>
          }
        />
      ) : (
        <form onSubmit={save}>
          <Group gap="xs" align="flex-end" wrap="wrap">
            <TextInput
              label={t("assistant.sessionTitle")}
              value={editing}
              maxLength={200}
              onChange={(event) => setEditing(event.currentTarget.value)}
              style={{ flex: 1, minWidth: 200 }}
            />
            <Button type="submit" loading={rename.isPending}>
              {t("common.save")}
            </Button>
            <Button variant="default" onClick={() => setEditing(null)}>
              {t("common.cancel")}
            </Button>
          </Group>
          <ErrorAlert error={rename.error} />
        </form>
      )}
      <Disclaimer />
      <ChatView sessionId={id} />
    </Stack>
  );
}
