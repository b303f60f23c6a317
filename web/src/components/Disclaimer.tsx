import { Alert } from "@mantine/core";
import { useTranslation } from "react-i18next";

/** Shown on every AI result: CDSS is not a medical device. */
export function Disclaimer() {
  const { t } = useTranslation();
  return (
    <Alert color="yellow" variant="light" title={t("disclaimer.title")} data-testid="disclaimer">
      {t("disclaimer.body")}
    </Alert>
  );
}
