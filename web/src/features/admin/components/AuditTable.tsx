import { Badge, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

import { ResponsiveTable } from "@/components/ResponsiveTable";
import { formatDateTime } from "@/lib/format";

import type { AccessEvent } from "../api/audit";

const OUTCOME_COLORS: Record<string, string> = { ok: "green", denied: "red", not_found: "orange", failed: "red", throttled: "yellow", error: "red" };

export function AuditTable({ events }: { events: AccessEvent[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  if (events.length === 0) {
    return (
      <Text c="dimmed" py="lg" ta="center">
        {t("admin.audit.empty")}
      </Text>
    );
  }
  return (
    <ResponsiveTable
      testId="audit-table"
      striped
      rows={events}
      rowKey={(event) => event.id}
      columns={[
        { key: "when", header: t("admin.audit.fields.when"), cell: (event) => formatDateTime(event.occurred_at, lang), primary: true },
        { key: "action", header: t("admin.audit.fields.action"), cell: (event) => <code>{event.action}</code> },
        {
          key: "outcome",
          header: t("admin.audit.fields.outcome"),
          cell: (event) => (
            <Badge color={OUTCOME_COLORS[event.outcome] ?? "gray"} variant="light">
              {t(`admin.audit.outcomes.${event.outcome}`, { defaultValue: event.outcome })}
            </Badge>
          ),
        },
        { key: "user", header: t("admin.audit.fields.user"), cell: (event) => event.user_id ?? "—" },
        { key: "patient", header: t("admin.audit.fields.patient"), cell: (event) => event.patient_id ?? "—" },
        {
          key: "object",
          header: t("admin.audit.fields.object"),
          cell: (event) => (event.object_type ? `${event.object_type}${event.object_id ? ` #${event.object_id}` : ""}` : "—"),
        },
        { key: "ip", header: t("admin.audit.fields.ip"), cell: (event) => event.ip ?? "—" },
      ]}
    />
  );
}
