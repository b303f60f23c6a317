import { Alert } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

import { Loading } from "@/components/Loading";
import { type CurrentUser, useCurrentUser } from "@/lib/auth/session";

/** The page for users whose role allows it; everyone else reads why not (the API says 403 too). */
export function RoleGate({ allow, children }: { allow: (user: CurrentUser | undefined) => boolean; children: ReactNode }) {
  const { t } = useTranslation();
  const me = useCurrentUser();
  if (me.isPending) return <Loading />;
  if (!allow(me.data)) {
    return (
      <Alert color="orange" variant="light" title={t("errors.title")} role="alert" data-testid="role-refused">
        {t("errors.forbidden")}
      </Alert>
    );
  }
  return <>{children}</>;
}
