import { Center, Group, Paper, Stack, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { Navigate, useLocation, useNavigate } from "react-router";

import { LanguageSwitch } from "@/components/LanguageSwitch";
import { useSessionState } from "@/lib/auth/session";

import { LoginForm } from "../components/LoginForm";

function safeNext(from: unknown): string {
  // Only a path of this app: never an absolute or protocol-relative URL.
  return typeof from === "string" && from.startsWith("/") && !from.startsWith("//") ? from : "/patients";
}

export function LoginPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const session = useSessionState();
  const next = safeNext((location.state as { from?: unknown } | null)?.from);

  if (session === "signed-in") return <Navigate to={next} replace />;

  return (
    <Center mih="100dvh" p="md">
      <Stack w="100%" maw={400} gap="md">
        <Group justify="space-between">
          <Title order={1} c="blue.8">
            CDSS
          </Title>
          <LanguageSwitch />
        </Group>
        <Text c="dimmed" size="sm">
          {t("login.tagline")}
        </Text>
        <Paper withBorder shadow="sm" p="lg" radius="md">
          <Title order={2} size="h3" mb="md">
            {t("login.title")}
          </Title>
          <LoginForm onSuccess={() => navigate(next, { replace: true })} />
        </Paper>
        <Text size="xs" c="dimmed" ta="center">
          {t("footer.notice")}
        </Text>
      </Stack>
    </Center>
  );
}
