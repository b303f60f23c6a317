import { SegmentedControl } from "@mantine/core";
import { useTranslation } from "react-i18next";

import { type Language, setLanguage } from "@/lib/i18n";

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <SegmentedControl
      size="xs"
      aria-label={t("language.label")}
      value={i18n.resolvedLanguage ?? "en"}
      onChange={(value) => void setLanguage(value as Language)}
      data={[
        { value: "ko", label: t("language.ko") },
        { value: "en", label: t("language.en") },
      ]}
    />
  );
}
