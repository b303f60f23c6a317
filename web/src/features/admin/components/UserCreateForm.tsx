import { Button, Group, PasswordInput, Select, SimpleGrid, Stack, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { ApiError } from "@/lib/api/errors";

import { type Role, ROLES, useCreateUser } from "../api/users";

function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const messages = error.detail[field];
  if (Array.isArray(messages)) return messages.join(" ");
  return typeof messages === "string" && error.message.startsWith(`${field}:`) ? error.message : undefined;
}

/** A new user: username, a first password (the server's password rules apply), role, name. */
export function UserCreateForm({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const create = useCreateUser();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("clinician");
  const [email, setEmail] = useState("");
  const [firstName, setFirstName] = useState("");
  const [lastName, setLastName] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { username: username.trim(), password, role, email: email.trim(), first_name: firstName.trim(), last_name: lastName.trim() },
      { onSuccess: onDone },
    );
  };

  return (
    <form onSubmit={submit} noValidate data-testid="user-create-form">
      <Stack gap="sm">
        <ErrorAlert error={create.error} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput
            label={t("admin.users.fields.username")}
            required
            value={username}
            onChange={(event) => setUsername(event.currentTarget.value)}
            error={fieldError(create.error, "username")}
            maxLength={150}
            autoComplete="off"
          />
          <PasswordInput
            label={t("admin.users.fields.password")}
            description={t("admin.users.passwordHint")}
            required
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
            error={fieldError(create.error, "password")}
            maxLength={256}
            autoComplete="new-password"
          />
          <Select
            label={t("admin.users.fields.role")}
            value={role}
            onChange={(value) => setRole((value as Role | null) ?? "clinician")}
            data={ROLES.map((value) => ({ value, label: t(`roles.${value}`) }))}
            allowDeselect={false}
          />
          <TextInput
            type="email"
            label={t("admin.users.fields.email")}
            value={email}
            onChange={(event) => setEmail(event.currentTarget.value)}
            error={fieldError(create.error, "email")}
            maxLength={254}
          />
          <TextInput
            label={t("admin.users.fields.firstName")}
            value={firstName}
            onChange={(event) => setFirstName(event.currentTarget.value)}
            maxLength={150}
          />
          <TextInput
            label={t("admin.users.fields.lastName")}
            value={lastName}
            onChange={(event) => setLastName(event.currentTarget.value)}
            maxLength={150}
          />
        </SimpleGrid>
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onDone}>
            {t("common.cancel")}
          </Button>
          <Button type="submit" loading={create.isPending} disabled={!username.trim() || !password}>
            {t("admin.users.create")}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
