import { useEffect, useRef, useState } from "react";

import { analysisEvents, type AnalysisStatusEvent, type ConnectionState } from "./analysisEvents";

/**
 * Calls `onEvent` for every analysis status change this user may see, while mounted; returns the
 * socket's state so a page can say whether its statuses are live.
 */
export function useAnalysisEvents(onEvent: (event: AnalysisStatusEvent) => void, enabled = true): ConnectionState {
  const handler = useRef(onEvent);
  const [state, setState] = useState<ConnectionState>(analysisEvents.getState());

  useEffect(() => {
    handler.current = onEvent;
  });

  useEffect(() => {
    if (!enabled) return undefined;
    const stopEvents = analysisEvents.subscribe((event) => handler.current(event));
    const stopState = analysisEvents.onState(setState);
    return () => {
      stopState();
      stopEvents();
    };
  }, [enabled]);

  return state;
}
