import { Button, Stack } from "@mantine/core";
import { useEffect, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Navigate, useLocation } from "react-router";

import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { NetworkError } from "@/lib/api/errors";
import { restoreSession, useSessionState } from "@/lib/auth/session";

/** Routes behind it need a session: restored after a reload, else the login page. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const state = useSessionState();
  const location = useLocation();
  const [attempt, setAttempt] = useState(0);
  const [unreachable, setUnreachable] = useState(false);

  useEffect(() => {
    if (state !== "restorable") return;
    let current = true;
    setUnreachable(false);
    // A refused refresh token signs out (state changes); no answer at all leaves it to retry.
    void restoreSession().then((token) => {
      if (current && token === null) setUnreachable(true);
    });
    return () => {
      current = false;
    };
  }, [state, attempt]);

  if (state === "signed-out") {
    return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
  }
  if (state === "restorable") {
    if (!unreachable) return <Loading />;
    return (
      <Stack p="md" maw={520} mx="auto">
        <ErrorAlert error={new NetworkError()} />
        <Button variant="light" onClick={() => setAttempt((n) => n + 1)}>
          {t("common.retry")}
        </Button>
      </Stack>
    );
  }
  return <>{children}</>;
}
