// The chat socket of one session, open while the chat view is: the access token travels as the
// subprotocol pair ["cdss.bearer", token] like /ws/analyses/ (src/lib/realtime); a close for an
// expired token (4401) is reopened after a refresh, other closes after a back-off. While it is not
// open the view asks over REST instead.
import { useCallback, useEffect, useRef, useState } from "react";

import { getAccessToken, refreshAccessToken } from "@/lib/auth/tokens";

import { chatSocketUrl, parseFrame, type ServerFrame } from "./chatStream";

export type SocketState = "connecting" | "open" | "closed";

const SUBPROTOCOL = "cdss.bearer";
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_NOT_FOUND = 4404;
const PING_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;
const MAX_RETRIES = 6;

export function useChatSocket(sessionId: number, onFrame: (frame: ServerFrame) => void) {
  const [state, setState] = useState<SocketState>("closed");
  const socketRef = useRef<WebSocket | null>(null);
  const handler = useRef(onFrame);

  useEffect(() => {
    handler.current = onFrame;
  });

  useEffect(() => {
    if (typeof WebSocket === "undefined" || !Number.isFinite(sessionId)) return undefined;
    let stopped = false;
    let retries = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ping: ReturnType<typeof setInterval> | undefined;

    const schedule = (delay?: number) => {
      if (stopped || retries >= MAX_RETRIES) return;
      const wait = delay ?? Math.min(MAX_BACKOFF_MS, 1000 * 2 ** retries);
      retries += 1;
      timer = setTimeout(open, wait);
    };

    function open() {
      if (stopped) return;
      const token = getAccessToken();
      if (!token) {
        schedule();
        return;
      }
      setState("connecting");
      const socket = new WebSocket(chatSocketUrl(window.location, sessionId), [SUBPROTOCOL, token]);
      socketRef.current = socket;
      socket.onopen = () => {
        retries = 0;
        setState("open");
        ping = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), PING_MS);
      };
      socket.onmessage = (message) => {
        const frame = parseFrame(message.data);
        if (frame) handler.current(frame);
      };
      socket.onclose = (event) => {
        clearInterval(ping);
        socketRef.current = null;
        setState("closed");
        if (stopped || event.code === CLOSE_NOT_FOUND) return;
        if (event.code === CLOSE_UNAUTHENTICATED) void refreshAccessToken().then(() => schedule(0));
        else schedule();
      };
    }

    open();
    return () => {
      stopped = true;
      clearTimeout(timer);
      clearInterval(ping);
      const socket = socketRef.current;
      socketRef.current = null;
      if (socket) {
        socket.onclose = null;
        socket.close(1000);
      }
      setState("closed");
    };
  }, [sessionId]);

  /** Sends a frame; false when the socket is not open (the caller falls back to REST). */
  const send = useCallback((frame: { type: "ask"; content: string } | { type: "cancel" }): boolean => {
    const socket = socketRef.current;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }, []);

  return { state, send };
}
