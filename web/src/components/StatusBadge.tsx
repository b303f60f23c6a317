import { Badge, Loader } from "@mantine/core";
import { useTranslation } from "react-i18next";

const COLORS: Record<string, string> = {
  PENDING: "gray",
  PROCESSING: "blue",
  COMPLETED: "green",
  FAILED: "red",
  CANCELLED: "orange",
};

/** An analysis's lifecycle status, PENDING -> PROCESSING -> COMPLETED | FAILED | CANCELLED. */
export function StatusBadge({ status }: { status: string | undefined }) {
  const { t } = useTranslation();
  const value = status ?? "PENDING";
  const working = value === "PENDING" || value === "PROCESSING";
  return (
    <Badge
      color={COLORS[value] ?? "gray"}
      variant="light"
      leftSection={working ? <Loader size={10} color={COLORS[value]} /> : undefined}
      data-status={value}
    >
      {t(`status.${value}`, { defaultValue: value })}
    </Badge>
  );
}
