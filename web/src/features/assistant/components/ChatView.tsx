import { Alert, Button, Group, Loader, Stack, Text, Textarea } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useReducer, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { LiveIndicator } from "@/components/LiveIndicator";
import { errorMessage } from "@/lib/api/errors";

import { assistantKeys, useAskRest, useMessages } from "../api/assistant";
import { useChatSocket } from "../api/chatSocket";
import { initialStream, isActive, type ServerFrame, streamReducer } from "../api/chatStream";
import { AnswerCard, AnswerLabel, MessageCard, QuestionCard } from "./MessageCard";

const MAX_QUESTION = 4000;

/** The conversation of one session: stored messages, the answer being streamed, the question box. */
export function ChatView({ sessionId }: { sessionId: number }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const messages = useMessages(sessionId);
  const [stream, dispatch] = useReducer(streamReducer, initialStream);
  const [draft, setDraft] = useState("");
  const bottom = useRef<HTMLDivElement>(null);
  const rest = useAskRest(sessionId);

  const settle = (reset: boolean) =>
    queryClient.invalidateQueries({ queryKey: assistantKeys.messages(sessionId) }).then(() => {
      if (reset) dispatch({ type: "reset" });
    });

  const onFrame = (frame: ServerFrame) => {
    dispatch(frame);
    if (frame.type === "done") void settle(true);
    // A cancelled or failed answer was not stored, but the question was.
    if (frame.type === "error") void settle(false);
  };
  const socket = useChatSocket(sessionId, onFrame);

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [stream.text, stream.phase, messages.data?.results.length]);

  const active = isActive(stream) || rest.isPending;

  const ask = (event: FormEvent) => {
    event.preventDefault();
    const content = draft.trim();
    if (!content || active) return;
    dispatch({ type: "ask", content });
    setDraft("");
    if (socket.send({ type: "ask", content })) return;
    // No socket (a proxy without WebSockets, a reconnect): the whole answer over REST.
    rest.mutate(content, {
      onSuccess: (message) => {
        dispatch({ type: "done", message });
        void settle(true);
      },
      onError: (error) => {
        dispatch({ type: "error", code: "rest", error: errorMessage(error, t) });
        void settle(false);
      },
    });
  };

  const cancel = () => {
    socket.send({ type: "cancel" });
  };

  const stored = messages.data?.results ?? [];
  const last = stored[stored.length - 1];
  // Once the stored list holds the question (a refetch), it is not shown twice.
  const questionStored = last?.role === "user" && last.content === stream.question;
  const showStream = stream.phase !== "idle";
  // Once the stored list holds the answer too, the streamed copy goes.
  const answerStored = stream.message !== null && stored.some((message) => message.id === stream.message?.id);
  const showAnswer = (isActive(stream) || stream.phase === "done") && !answerStored;

  return (
    <Stack gap="sm">
      <Group justify="flex-end">
        <LiveIndicator state={socket.state} />
      </Group>
      <ErrorAlert error={messages.error} />
      {messages.isPending ? <Loader size="sm" /> : null}
      {messages.data && stored.length === 0 && !showStream ? (
        <Text size="sm" c="dimmed">
          {t("assistant.emptyChat")}
        </Text>
      ) : null}
      <Stack gap="sm" data-testid="messages">
        {stored.map((message) => (
          <MessageCard key={message.id} message={message} />
        ))}
        {showAnswer && !questionStored ? (
          <QuestionCard content={stream.question} />
        ) : null}
        {showAnswer ? (
          <AnswerCard
            text={stream.text}
            citations={stream.sources}
            label={
              stream.message ? (
                <AnswerLabel kind={stream.message.answer_kind} provider={stream.message.provider} model={stream.message.model} />
              ) : (
                <Group gap="xs">
                  <Loader size="xs" />
                  <Text size="xs" c="dimmed">
                    {t(stream.phase === "waiting" ? "assistant.searching" : "assistant.writing")}
                  </Text>
                </Group>
              )
            }
          />
        ) : null}
        {stream.phase === "cancelled" ? (
          <Alert color="gray" variant="light" data-testid="cancelled">
            <Text size="sm">{t("assistant.cancelled")}</Text>
          </Alert>
        ) : null}
        {stream.phase === "error" ? (
          <Alert color="red" variant="light" role="alert">
            <Text size="sm" style={{ overflowWrap: "anywhere" }}>
              {stream.error || t("assistant.failed")}
            </Text>
          </Alert>
        ) : null}
        <div ref={bottom} />
      </Stack>
      <form onSubmit={ask}>
        <Stack gap="xs">
          <Textarea
            label={t("assistant.question")}
            placeholder={t("assistant.questionPlaceholder")}
            value={draft}
            onChange={(event) => setDraft(event.currentTarget.value)}
            onKeyDown={(event) => {
              if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) ask(event);
            }}
            rows={3}
            resize="vertical"
            maxLength={MAX_QUESTION}
          />
          <Group gap="xs" justify="flex-end">
            {isActive(stream) && socket.state === "open" ? (
              <Button variant="default" color="red" onClick={cancel}>
                {t("assistant.stop")}
              </Button>
            ) : null}
            <Button type="submit" loading={active} disabled={!draft.trim()}>
              {t("assistant.send")}
            </Button>
          </Group>
          {socket.state !== "open" ? (
            <Text size="xs" c="dimmed">
              {t("assistant.noStreaming")}
            </Text>
          ) : null}
        </Stack>
      </form>
    </Stack>
  );
}
