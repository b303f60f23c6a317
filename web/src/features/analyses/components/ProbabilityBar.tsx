import { Group, Progress, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

import { formatProbability } from "@/lib/format";

/** A label with its probability, written and drawn. */
export function ProbabilityBar({ label, probability, color = "blue" }: { label: string; probability: number; color?: string }) {
  const { i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  return (
    <div>
      <Group justify="space-between" gap="xs" wrap="nowrap">
        <Text size="sm" style={{ overflowWrap: "anywhere" }}>
          {label}
        </Text>
        <Text size="sm" fw={600} style={{ whiteSpace: "nowrap" }}>
          {formatProbability(probability, lang)}
        </Text>
      </Group>
      <Progress value={Math.max(0, Math.min(1, probability)) * 100} color={color} size="sm" aria-hidden />
    </div>
  );
}
