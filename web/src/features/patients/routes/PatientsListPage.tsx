import { Button, Group, Pagination, Paper, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { PageHeader } from "@/components/PageHeader";

import { PAGE_SIZE, usePatients } from "../api/patients";
import { PatientsTable } from "../components/PatientsTable";

export function PatientsListPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get("page")) || 1);
  const [search, setSearch] = useState(params.get("q") ?? "");
  const [debounced] = useDebouncedValue(search.trim(), 300);

  // The search and page live in the URL, so back/forward and reloads keep them.
  useEffect(() => {
    const current = params.get("q") ?? "";
    if (debounced !== current) {
      setParams(debounced ? { q: debounced } : {}, { replace: true });
    }
  }, [debounced, params, setParams]);

  const query = params.get("q") ?? "";
  const patients = usePatients(query, page);
  const pages = Math.max(1, Math.ceil((patients.data?.count ?? 0) / PAGE_SIZE));

  return (
    <Stack gap="md">
      <PageHeader
        title={t("patients.title")}
        actions={
          <Button component={Link} to="/patients/new">
            {t("patients.new")}
          </Button>
        }
      />
      <TextInput
        type="search"
        aria-label={t("patients.search")}
        placeholder={t("patients.searchPlaceholder")}
        value={search}
        onChange={(event) => setSearch(event.currentTarget.value)}
      />
      <ErrorAlert error={patients.error} />
      <Paper withBorder radius="md">
        {patients.isPending ? <Loading /> : <PatientsTable patients={patients.data?.results ?? []} />}
      </Paper>
      <Group justify="space-between" wrap="wrap">
        <Text size="sm" c="dimmed">
          {t("patients.count", { count: patients.data?.count ?? 0 })}
        </Text>
        {pages > 1 ? (
          <Pagination
            total={pages}
            value={page}
            onChange={(next) => setParams(query ? { q: query, page: String(next) } : { page: String(next) })}
            size="sm"
          />
        ) : null}
      </Group>
    </Stack>
  );
}
