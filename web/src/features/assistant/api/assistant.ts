// The assistant's server state: chat sessions (optionally about one patient) and their messages.
// Answers stream over the chat socket (chatSocket.ts); asking over REST is the fallback.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "@/lib/api/client";
import type { components } from "@/lib/api/schema";

export type ChatSession = components["schemas"]["ChatSession"];
export type ChatSessionCreate = components["schemas"]["ChatSessionCreateRequest"];
export type Message = components["schemas"]["Message"];
export type Citation = components["schemas"]["Citation"];

export const SESSIONS_PAGE_SIZE = 20;
const MESSAGES_PAGE_SIZE = 200;

export const assistantKeys = {
  all: ["assistant"] as const,
  sessions: (page: number) => ["assistant", "sessions", { page }] as const,
  session: (id: number) => ["assistant", "session", id] as const,
  messages: (id: number) => ["assistant", "session", id, "messages"] as const,
};

const sessionPath = (id: number) => ({ params: { path: { session_id: String(id) } } });

export function useSessions(page = 1) {
  return useQuery({
    queryKey: assistantKeys.sessions(page),
    queryFn: () =>
      unwrap(api.GET("/api/v1/assistant/sessions/", { params: { query: { page, page_size: SESSIONS_PAGE_SIZE } } })),
    placeholderData: keepPreviousData,
  });
}

export function useSession(id: number) {
  return useQuery({
    queryKey: assistantKeys.session(id),
    queryFn: () => unwrap(api.GET("/api/v1/assistant/sessions/{session_id}/", sessionPath(id))),
  });
}

export function useCreateSession() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ChatSessionCreate) => unwrap(api.POST("/api/v1/assistant/sessions/", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["assistant", "sessions"] }),
  });
}

export function useRenameSession(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (title: string) =>
      unwrap(api.PATCH("/api/v1/assistant/sessions/{session_id}/", { ...sessionPath(id), body: { title } })),
    onSuccess: (session) => {
      queryClient.setQueryData(assistantKeys.session(id), session);
      return queryClient.invalidateQueries({ queryKey: ["assistant", "sessions"] });
    },
  });
}

export function useDeleteSession() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (id: number) => {
      await unwrap(api.DELETE("/api/v1/assistant/sessions/{session_id}/", sessionPath(id)));
      return id;
    },
    onSuccess: (id) => {
      queryClient.removeQueries({ queryKey: assistantKeys.session(id) });
      return queryClient.invalidateQueries({ queryKey: ["assistant", "sessions"] });
    },
  });
}

/** The session's messages, oldest first (questions and answers). */
export function useMessages(id: number) {
  return useQuery({
    queryKey: assistantKeys.messages(id),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/assistant/sessions/{session_id}/messages/", {
          params: { path: { session_id: String(id) }, query: { page_size: MESSAGES_PAGE_SIZE } },
        }),
      ),
  });
}

/** Asks over REST (no streaming): answers the stored answer with its citations. */
export function useAskRest(id: number) {
  return useMutation({
    mutationFn: (content: string) =>
      unwrap(
        api.POST("/api/v1/assistant/sessions/{session_id}/messages/", { ...sessionPath(id), body: { content } }),
      ) as Promise<Message>, // without ?stream=1 the answer is the stored message (201)
  });
}

/** The name of the patient a session is about (the session stores the id only). */
export function usePatientName(patientId: number | null | undefined) {
  return useQuery({
    queryKey: ["patients", "detail", patientId ?? 0],
    queryFn: () =>
      unwrap(api.GET("/api/v1/patients/{patient_id}/", { params: { path: { patient_id: String(patientId) } } })),
    enabled: typeof patientId === "number",
    select: (patient) => patient.name,
  });
}
