import { Button, Group, Modal, Pagination, Paper, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { PageHeader } from "@/components/PageHeader";
import { RoleGate } from "@/components/RoleGate";
import { isAdmin } from "@/lib/auth/roles";
import { useCurrentUser } from "@/lib/auth/session";

import { type ManagedUser, type Role, ROLES, type UserFilters, type UserUpdate, USERS_PAGE_SIZE, useUpdateUser, useUsers } from "../api/users";
import { UserCreateForm } from "../components/UserCreateForm";
import { UsersTable } from "../components/UsersTable";

function Users() {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search.trim(), 300);
  const [role, setRole] = useState<Role | "">("");
  const [active, setActive] = useState<UserFilters["active"]>("all");
  const [page, setPage] = useState(1);
  const [creating, setCreating] = useState(false);
  const filters: UserFilters = { search: debounced, role, active, page };
  const users = useUsers(filters);
  const update = useUpdateUser();
  const pages = Math.max(1, Math.ceil((users.data?.count ?? 0) / USERS_PAGE_SIZE));

  const change = (user: ManagedUser, body: UserUpdate) => {
    if (body.is_active === false && !window.confirm(t("admin.users.confirmDeactivate", { username: user.username }))) return;
    update.mutate({ id: user.id, body });
  };

  return (
    <Stack gap="md">
      <PageHeader
        title={t("admin.users.title")}
        subtitle={t("admin.users.subtitle")}
        actions={<Button onClick={() => setCreating(true)}>{t("admin.users.new")}</Button>}
      />
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <TextInput
          type="search"
          aria-label={t("admin.users.search")}
          placeholder={t("admin.users.searchPlaceholder")}
          value={search}
          onChange={(event) => {
            setSearch(event.currentTarget.value);
            setPage(1);
          }}
        />
        <Select
          aria-label={t("admin.users.fields.role")}
          placeholder={t("admin.users.anyRole")}
          value={role || null}
          onChange={(value) => {
            setRole((value as Role | null) ?? "");
            setPage(1);
          }}
          data={ROLES.map((value) => ({ value, label: t(`roles.${value}`) }))}
          clearable
        />
        <SegmentedControl
          aria-label={t("admin.users.fields.state")}
          value={active}
          onChange={(value) => {
            setActive(value as UserFilters["active"]);
            setPage(1);
          }}
          data={[
            { value: "all", label: t("admin.users.all") },
            { value: "active", label: t("admin.users.active") },
            { value: "inactive", label: t("admin.users.inactive") },
          ]}
        />
      </SimpleGrid>
      <ErrorAlert error={users.error ?? update.error} />
      <Paper withBorder radius="md">
        {users.isPending ? (
          <Loading />
        ) : (
          <UsersTable
            users={users.data?.results ?? []}
            meId={me.data?.id}
            busyId={update.isPending ? (update.variables?.id ?? null) : null}
            onChange={change}
          />
        )}
      </Paper>
      <Group justify="space-between" wrap="wrap">
        <Text size="sm" c="dimmed">
          {t("admin.users.count", { count: users.data?.count ?? 0 })}
        </Text>
        {pages > 1 ? <Pagination total={pages} value={page} onChange={setPage} size="sm" /> : null}
      </Group>
      {/* lockScroll off: its scroll lock injects a <style> without the CSP nonce, which the policy refuses. */}
      <Modal opened={creating} onClose={() => setCreating(false)} title={t("admin.users.new")} size="lg" lockScroll={false}>
        <UserCreateForm onDone={() => setCreating(false)} />
      </Modal>
    </Stack>
  );
}

export function UsersPage() {
  return (
    <RoleGate allow={isAdmin}>
      <Users />
    </RoleGate>
  );
}
