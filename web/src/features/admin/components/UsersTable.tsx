import { Badge, Button, Select, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

import { ResponsiveTable } from "@/components/ResponsiveTable";
import { formatDateTime } from "@/lib/format";

import { type ManagedUser, type Role, ROLES, type UserUpdate } from "../api/users";

interface Props {
  users: ManagedUser[];
  meId: number | undefined;
  busyId: number | null;
  onChange: (user: ManagedUser, body: UserUpdate) => void;
}

/** Users with their role (changeable) and state (deactivate / reactivate); not one's own. */
export function UsersTable({ users, meId, busyId, onChange }: Props) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  if (users.length === 0) {
    return (
      <Text c="dimmed" py="lg" ta="center">
        {t("admin.users.empty")}
      </Text>
    );
  }
  return (
    <ResponsiveTable
      testId="users-table"
      striped
      rows={users}
      rowKey={(user) => user.id}
      columns={[
        {
          key: "username",
          header: t("admin.users.fields.username"),
          cell: (user) => (
            <span data-user={user.username}>
              <Text span fw={500} size="sm">
                {user.username}
              </Text>
              {[user.first_name, user.last_name].filter(Boolean).length ? (
                <Text span c="dimmed" size="sm">
                  {" "}
                  · {[user.first_name, user.last_name].filter(Boolean).join(" ")}
                </Text>
              ) : null}
            </span>
          ),
        },
        { key: "email", header: t("admin.users.fields.email"), cell: (user) => user.email || "—" },
        {
          key: "role",
          header: t("admin.users.fields.role"),
          cell: (user) => (
            <Select
              size="xs"
              aria-label={t("admin.users.roleOf", { username: user.username })}
              value={user.role}
              data={ROLES.map((value) => ({ value, label: t(`roles.${value}`) }))}
              allowDeselect={false}
              disabled={user.id === meId || busyId === user.id}
              onChange={(value) => {
                if (value && value !== user.role) onChange(user, { role: value as Role });
              }}
              w={170}
              comboboxProps={{ withinPortal: true }}
            />
          ),
        },
        {
          key: "state",
          header: t("admin.users.fields.state"),
          cell: (user) => (
            <Badge color={user.is_active ? "green" : "gray"} variant="light">
              {t(user.is_active ? "admin.users.active" : "admin.users.inactive")}
            </Badge>
          ),
        },
        {
          key: "lastLogin",
          header: t("admin.users.fields.lastLogin"),
          cell: (user) => (user.last_login ? formatDateTime(user.last_login, lang) : "—"),
        },
        {
          key: "actions",
          header: t("admin.users.fields.actions"),
          cell: (user) =>
            user.id === meId ? (
              <Text size="xs" c="dimmed">
                {t("admin.users.you")}
              </Text>
            ) : (
              <Button
                size="compact-sm"
                variant={user.is_active ? "light" : "default"}
                color={user.is_active ? "red" : undefined}
                loading={busyId === user.id}
                onClick={() => onChange(user, { is_active: !user.is_active })}
                aria-label={t(user.is_active ? "admin.users.deactivateUser" : "admin.users.reactivateUser", { username: user.username })}
              >
                {t(user.is_active ? "admin.users.deactivate" : "admin.users.reactivate")}
              </Button>
            ),
        },
      ]}
    />
  );
}
