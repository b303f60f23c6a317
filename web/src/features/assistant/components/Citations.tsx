import { Accordion, Badge, Group, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";

import type { Citation } from "../api/assistant";

/** The passages an answer cites, numbered as in its text; each opens to its excerpt. */
export function Citations({ citations }: { citations: Citation[] }) {
  const { t } = useTranslation();
  if (citations.length === 0) return null;
  return (
    <div>
      <Text size="xs" fw={600} c="dimmed" mb={4}>
        {t("assistant.sources")}
      </Text>
      <Accordion variant="contained" chevronPosition="right" multiple data-testid="citations">
        {citations.map((citation) => (
          <Accordion.Item key={`${citation.n}-${citation.document}-${citation.page ?? ""}`} value={String(citation.n)}>
            <Accordion.Control>
              <Group gap="xs" wrap="nowrap" style={{ minWidth: 0 }}>
                <Badge size="sm" variant="light" radius="sm" style={{ flexShrink: 0, overflow: "visible" }}>
                  [{citation.n}]
                </Badge>
                <Text size="sm" style={{ overflowWrap: "anywhere", minWidth: 0 }}>
                  {citation.document}
                  {citation.page ? ` · ${t("assistant.page", { page: citation.page })}` : ""}
                </Text>
              </Group>
            </Accordion.Control>
            <Accordion.Panel>
              {citation.section ? (
                <Text size="xs" c="dimmed" mb={4} style={{ overflowWrap: "anywhere" }}>
                  {citation.section}
                </Text>
              ) : null}
              <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
                {citation.excerpt}
              </Text>
              {citation.analysis_id ? (
                <Text size="xs" c="dimmed" mt={4}>
                  {t("assistant.fromAnalysis", { id: citation.analysis_id })}
                </Text>
              ) : null}
            </Accordion.Panel>
          </Accordion.Item>
        ))}
      </Accordion>
    </div>
  );
}
