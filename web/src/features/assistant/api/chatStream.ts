// One answer being written, as the chat socket (/ws/chat/<session>/) delivers it: `sources` (the
// passages it cites), `delta` frames appended in order, then `done` with the stored message, or
// `error` (`cancelled` after a cancel: nothing was stored). The reducer is pure; the socket
// (chatSocket.ts) and the REST fallback both feed it.
import type { Citation, Message } from "./assistant";

export type StreamPhase = "idle" | "waiting" | "streaming" | "done" | "cancelled" | "error";

export interface StreamState {
  phase: StreamPhase;
  question: string;
  text: string;
  sources: Citation[];
  message: Message | null;
  error: string | null;
  errorCode: string | null;
}

export type ServerFrame =
  | { type: "sources"; sources: Citation[] }
  | { type: "delta"; text: string }
  | { type: "done"; message: Message }
  | { type: "error"; code?: string; error?: string }
  | { type: "pong" };

export type StreamAction = { type: "ask"; content: string } | { type: "reset" } | { type: "cancelling" } | ServerFrame;

export const initialStream: StreamState = {
  phase: "idle",
  question: "",
  text: "",
  sources: [],
  message: null,
  error: null,
  errorCode: null,
};

const ACTIVE: ReadonlySet<StreamPhase> = new Set(["waiting", "streaming"]);

export function isActive(state: StreamState): boolean {
  return ACTIVE.has(state.phase);
}

export function streamReducer(state: StreamState, action: StreamAction): StreamState {
  switch (action.type) {
    case "ask":
      return { ...initialStream, phase: "waiting", question: action.content };
    case "reset":
      return initialStream;
    case "cancelling":
      return state;
    case "sources":
      if (!isActive(state)) return state;
      return { ...state, phase: "streaming", sources: action.sources };
    case "delta":
      if (!isActive(state)) return state;
      return { ...state, phase: "streaming", text: state.text + action.text };
    case "done":
      if (!isActive(state)) return state;
      return {
        ...state,
        phase: "done",
        message: action.message,
        text: action.message.content,
        sources: action.message.citations,
      };
    case "error":
      if (action.code === "cancelled") return { ...state, phase: "cancelled", error: null, errorCode: "cancelled" };
      // A refused second question ("busy") leaves the answer being written as it is.
      if (action.code === "busy" && isActive(state)) return state;
      return { ...state, phase: "error", error: action.error ?? null, errorCode: action.code ?? null };
    case "pong":
      return state;
    default:
      return state;
  }
}

/** A frame from the socket, or null for anything that is not one. */
export function parseFrame(data: unknown): ServerFrame | null {
  let value: unknown;
  try {
    value = typeof data === "string" ? JSON.parse(data) : data;
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  switch (v.type) {
    case "sources":
      return Array.isArray(v.sources) ? { type: "sources", sources: v.sources as Citation[] } : null;
    case "delta":
      return typeof v.text === "string" ? { type: "delta", text: v.text } : null;
    case "done":
      return typeof v.message === "object" && v.message !== null ? { type: "done", message: v.message as Message } : null;
    case "error":
      return {
        type: "error",
        code: typeof v.code === "string" ? v.code : undefined,
        error: typeof v.error === "string" ? v.error : undefined,
      };
    case "pong":
      return { type: "pong" };
    default:
      return null;
  }
}

export function chatSocketUrl(location: Pick<Location, "protocol" | "host">, sessionId: number): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/chat/${sessionId}/`;
}
