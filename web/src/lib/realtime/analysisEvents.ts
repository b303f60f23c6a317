// Live analysis status over /ws/analyses/ (cdss/jobs/consumers.py). One socket per tab, opened
// while anything listens and a session exists. Browsers cannot set headers on a WebSocket, so the
// access token travels as a subprotocol pair (["cdss.bearer", token]); the server closes a socket
// whose token expired with 4401, and this reopens it after refreshing the token. Events carry ids
// and a status, never names: {type: "analysis.status", analysis_id, patient_id, kind, status, ...}.
import { getAccessToken, refreshAccessToken } from "@/lib/auth/tokens";

export interface AnalysisStatusEvent {
  type: "analysis.status";
  event_id: number;
  analysis_id: number;
  kind: string;
  status: "PENDING" | "PROCESSING" | "COMPLETED" | "FAILED" | "CANCELLED";
  attempt: number;
  error_code: string | null;
  patient_id: number | null;
  requested_by_id: number | null;
  occurred_at: string;
}

export type ConnectionState = "connecting" | "open" | "closed";

type EventListener = (event: AnalysisStatusEvent) => void;
type StateListener = (state: ConnectionState) => void;

const SUBPROTOCOL = "cdss.bearer";
const CLOSE_UNAUTHENTICATED = 4401;
const PING_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;

export function isAnalysisStatusEvent(value: unknown): value is AnalysisStatusEvent {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.type === "analysis.status" && typeof v.analysis_id === "number" && typeof v.status === "string";
}

export function socketUrl(location: Pick<Location, "protocol" | "host">): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/analyses/`;
}

class AnalysisEventSocket {
  private socket: WebSocket | null = null;
  private listeners = new Set<EventListener>();
  private stateListeners = new Set<StateListener>();
  private state: ConnectionState = "closed";
  private retries = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    this.ensureOpen();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.close();
    };
  }

  onState(listener: StateListener): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  getState(): ConnectionState {
    return this.state;
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private ensureOpen(): void {
    if (this.socket || this.reconnectTimer !== undefined || typeof WebSocket === "undefined") return;
    const token = getAccessToken();
    if (!token) {
      this.scheduleReconnect();
      return;
    }
    this.setState("connecting");
    const socket = new WebSocket(socketUrl(window.location), [SUBPROTOCOL, token]);
    this.socket = socket;
    socket.onopen = () => {
      this.retries = 0;
      this.setState("open");
      this.pingTimer = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), PING_MS);
    };
    socket.onmessage = (message) => {
      let data: unknown;
      try {
        data = JSON.parse(String(message.data));
      } catch {
        return;
      }
      if (isAnalysisStatusEvent(data)) for (const listener of this.listeners) listener(data);
    };
    socket.onclose = (event) => {
      clearInterval(this.pingTimer);
      this.socket = null;
      this.setState("closed");
      if (this.listeners.size === 0) return;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        void refreshAccessToken().then(() => this.scheduleReconnect(0));
      } else {
        this.scheduleReconnect();
      }
    };
  }

  private scheduleReconnect(delay?: number): void {
    if (this.reconnectTimer !== undefined) return;
    const wait = delay ?? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.retries);
    this.retries += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.listeners.size > 0) this.ensureOpen();
    }, wait);
  }

  private close(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.close(1000);
    }
    this.setState("closed");
  }
}

export const analysisEvents = new AnalysisEventSocket();
