import { Group, Pill, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

import { clinicianLabel, useClinicianDirectory } from "../api/careTeam";

/** The care team by name; a member no longer in the directory (deactivated) shows by id. */
export function CareTeamList({ ids }: { ids: number[] }) {
  const { t } = useTranslation();
  const directory = useClinicianDirectory("", ids.length > 0);
  if (ids.length === 0) return <>{t("careTeam.none")}</>;
  const byId = new Map((directory.data?.results ?? []).map((c) => [c.id, c]));
  if (directory.isPending) return <>{t("patients.careTeamCount", { count: ids.length })}</>;
  return (
    <Group gap={4} component="span" data-testid="care-team-list">
      {ids.map((id) => {
        const clinician = byId.get(id);
        return clinician ? (
          <Pill key={id} size="sm">
            {clinicianLabel(clinician)}
          </Pill>
        ) : (
          <Text key={id} span size="xs" c="dimmed">
            {t("careTeam.unknown", { id })}
          </Text>
        );
      })}
    </Group>
  );
}
