import { Badge } from "@mantine/core";
import { useTranslation } from "react-i18next";

import type { ConnectionState } from "@/lib/realtime/analysisEvents";

/** Whether the statuses on the page update by themselves (the WebSocket is open). */
export function LiveIndicator({ state }: { state: ConnectionState }) {
  const { t } = useTranslation();
  const color = state === "open" ? "green" : state === "connecting" ? "yellow" : "gray";
  return (
    <Badge variant="dot" color={color} data-live={state}>
      {t(`live.${state}`)}
    </Badge>
  );
}
