import { ActionIcon, Anchor, AppShell, Group, Menu, Text } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, NavLink, Outlet, useNavigate } from "react-router";

import { isAdmin, isModelManager } from "@/lib/auth/roles";
import { type CurrentUser, logout, useCurrentUser } from "@/lib/auth/session";

import { LanguageSwitch } from "./LanguageSwitch";

/** The pages a role adds to the navigation: models for ML engineers, users and audit for admins. */
function roleLinks(user: CurrentUser | undefined): { to: string; label: string }[] {
  return [
    ...(isModelManager(user) ? [{ to: "/models", label: "nav.models" }] : []),
    ...(isAdmin(user) ? [{ to: "/users", label: "nav.users" }, { to: "/audit", label: "nav.audit" }] : []),
  ];
}

function UserMenu() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { data: user } = useCurrentUser();
  const initial = (user?.username ?? "?").slice(0, 1).toUpperCase();
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <ActionIcon variant="light" radius="xl" size="lg" aria-label={t("nav.account")}>
          {initial}
        </ActionIcon>
      </Menu.Target>
      <Menu.Dropdown>
        {user ? (
          <Menu.Label>
            {user.username} · {t(`roles.${user.role}`)}
          </Menu.Label>
        ) : null}
        {/* On a phone the header has no room for these links: the menu carries them. */}
        {roleLinks(user).map((link) => (
          <Menu.Item key={link.to} component={Link} to={link.to} hiddenFrom="sm">
            {t(link.label)}
          </Menu.Item>
        ))}
        <Menu.Item
          color="red"
          onClick={() => {
            void logout(queryClient).then(() => navigate("/login", { replace: true }));
          }}
        >
          {t("nav.logout")}
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

/** The signed-in frame: header with the app's name, navigation, language and account. */
export function AppLayout() {
  const { t } = useTranslation();
  const { data: user } = useCurrentUser();
  return (
    <AppShell header={{ height: 56 }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap" gap="xs">
          <Group gap="md" wrap="nowrap">
            <Anchor component={Link} to="/patients" underline="never" fw={700} c="blue.8" size="lg">
              CDSS
            </Anchor>
            <Anchor component={NavLink} to="/patients" size="sm" className="cdss-nav-link">
              {t("nav.patients")}
            </Anchor>
            <Anchor component={NavLink} to="/assistant" size="sm" className="cdss-nav-link">
              {t("nav.assistant")}
            </Anchor>
            {roleLinks(user).map((link) => (
              <Anchor key={link.to} component={NavLink} to={link.to} size="sm" className="cdss-nav-link" visibleFrom="sm">
                {t(link.label)}
              </Anchor>
            ))}
          </Group>
          <Group gap="xs" wrap="nowrap">
            <LanguageSwitch />
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Main>
        <div className="cdss-page">
          <Outlet />
        </div>
        <Text component="footer" size="xs" c="dimmed" ta="center" mt="xl">
          {t("footer.notice")}
        </Text>
      </AppShell.Main>
    </AppShell>
  );
}
