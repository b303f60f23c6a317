import { Badge, Group, Paper, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";

import type { Citation, Message } from "../api/assistant";
import { Citations } from "./Citations";

type AnswerKind = Message["answer_kind"];

const KIND_COLOURS: Record<AnswerKind, string> = {
  retrieved: "teal",
  generated: "violet",
  nothing_found: "gray",
  question: "blue",
};

/** How an answer was written: retrieved text, AI-generated from the cited passages, or nothing found. */
export function AnswerLabel({ kind, provider, model }: { kind: AnswerKind; provider?: string; model?: string }) {
  const { t } = useTranslation();
  return (
    <Group gap={6} wrap="wrap">
      <Badge size="sm" variant="filled" color={KIND_COLOURS[kind]} data-testid="answer-kind">
        {t(`assistant.answerKinds.${kind}`)}
      </Badge>
      {kind === "generated" && (provider || model) ? (
        <Text size="xs" c="dimmed">
          {[provider, model].filter(Boolean).join(" · ")}
        </Text>
      ) : null}
    </Group>
  );
}

export function QuestionCard({ content }: { content: string }) {
  return (
    <Paper p="sm" radius="md" bg="blue.0" ml="auto" maw="90%" data-testid="question">
      <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
        {content}
      </Text>
    </Paper>
  );
}

export function AnswerCard({
  text,
  citations,
  label,
  footer,
}: {
  text: string;
  citations: Citation[];
  label?: ReactNode;
  footer?: ReactNode;
}) {
  return (
    <Paper withBorder p="sm" radius="md" maw="100%" data-testid="answer">
      <Stack gap="xs">
        {label}
        <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
          {text}
        </Text>
        {footer}
        <Citations citations={citations} />
      </Stack>
    </Paper>
  );
}

/** One stored message: the question, or the answer with its label and citations. */
export function MessageCard({ message }: { message: Message }) {
  const { t } = useTranslation();
  if (message.role === "user") return <QuestionCard content={message.content} />;
  return (
    <AnswerCard
      text={message.content}
      citations={message.citations}
      label={<AnswerLabel kind={message.answer_kind} provider={message.provider} model={message.model} />}
      footer={
        message.guard_outcome === "fell_back" ? (
          <Text size="xs" c="yellow.8">
            {t("assistant.fellBack")}
          </Text>
        ) : null
      }
    />
  );
}
