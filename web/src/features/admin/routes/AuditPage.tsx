import { Button, Group, Pagination, Paper, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { PageHeader } from "@/components/PageHeader";
import { RoleGate } from "@/components/RoleGate";
import { isAdmin } from "@/lib/auth/roles";

import { AUDIT_PAGE_SIZE, type AuditFilters, emptyAuditFilters, idOrUndefined, OUTCOMES, useAuditEvents } from "../api/audit";
import { AuditTable } from "../components/AuditTable";

function Audit() {
  const { t } = useTranslation();
  const [form, setForm] = useState<AuditFilters>(emptyAuditFilters);
  // Typed filters settle before they are asked for; the page number applies at once.
  const [settled] = useDebouncedValue(form, 400);
  const events = useAuditEvents({ ...settled, page: form.page });
  const pages = Math.max(1, Math.ceil((events.data?.count ?? 0) / AUDIT_PAGE_SIZE));
  const set = (key: keyof AuditFilters) => (value: string) => setForm((current) => ({ ...current, [key]: value, page: 1 }));
  const badId = (value: string) => (value.trim() && idOrUndefined(value) === undefined ? t("admin.audit.badId") : undefined);

  return (
    <Stack gap="md">
      <PageHeader title={t("admin.audit.title")} subtitle={t("admin.audit.subtitle")} />
      <Paper withBorder p="md" radius="md">
        <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }} spacing="sm">
          <TextInput label={t("admin.audit.fields.user")} inputMode="numeric" value={form.user} onChange={(e) => set("user")(e.currentTarget.value)} error={badId(form.user)} />
          <TextInput label={t("admin.audit.fields.patient")} inputMode="numeric" value={form.patient} onChange={(e) => set("patient")(e.currentTarget.value)} error={badId(form.patient)} />
          <TextInput label={t("admin.audit.fields.action")} placeholder="patient.read" value={form.action} onChange={(e) => set("action")(e.currentTarget.value)} maxLength={64} />
          <Select
            label={t("admin.audit.fields.outcome")}
            placeholder={t("admin.audit.anyOutcome")}
            value={form.outcome || null}
            onChange={(value) => set("outcome")(value ?? "")}
            data={OUTCOMES.map((value) => ({ value, label: t(`admin.audit.outcomes.${value}`) }))}
            clearable
          />
          <TextInput type="date" label={t("admin.audit.fields.since")} value={form.since} onChange={(e) => set("since")(e.currentTarget.value)} />
          <TextInput type="date" label={t("admin.audit.fields.until")} value={form.until} onChange={(e) => set("until")(e.currentTarget.value)} />
        </SimpleGrid>
        <Group justify="flex-end" mt="sm">
          <Button variant="subtle" size="compact-sm" onClick={() => setForm(emptyAuditFilters)}>
            {t("admin.audit.clear")}
          </Button>
        </Group>
      </Paper>
      <ErrorAlert error={events.error} />
      <Paper withBorder radius="md">{events.isPending ? <Loading /> : <AuditTable events={events.data?.results ?? []} />}</Paper>
      <Group justify="space-between" wrap="wrap">
        <Text size="sm" c="dimmed">
          {t("admin.audit.count", { count: events.data?.count ?? 0 })}
        </Text>
        {pages > 1 ? <Pagination total={pages} value={form.page} onChange={(page) => setForm((current) => ({ ...current, page }))} size="sm" /> : null}
      </Group>
    </Stack>
  );
}

export function AuditPage() {
  return (
    <RoleGate allow={isAdmin}>
      <Audit />
    </RoleGate>
  );
}
