import { Alert, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

import { ApiError, errorMessage } from "@/lib/api/errors";

/** An error as the API worded it (its message names the field or the problem). */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  const { t } = useTranslation();
  if (!error) return null;
  const requestId = error instanceof ApiError ? error.requestId : undefined;
  return (
    <Alert color="red" variant="light" title={title ?? t("errors.title")} role="alert">
      <Text size="sm" style={{ overflowWrap: "anywhere" }}>
        {errorMessage(error, t)}
      </Text>
      {requestId ? (
        <Text size="xs" c="dimmed" mt={4}>
          {t("errors.requestId", { id: requestId })}
        </Text>
      ) : null}
    </Alert>
  );
}
