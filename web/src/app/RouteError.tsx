import { Button, Stack } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { useRouteError } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";

/** A route that failed to load (a lazy chunk missing after a new build, a render error). */
export function RouteError() {
  const { t } = useTranslation();
  const error = useRouteError();
  return (
    <Stack p="md" maw={640} mx="auto">
      <ErrorAlert error={error} title={t("errors.page")} />
      <Button variant="light" onClick={() => window.location.reload()}>
        {t("common.reload")}
      </Button>
    </Stack>
  );
}
