import { describe, expect, it } from "vitest";

import { isAnalysisStatusEvent, socketUrl } from "./analysisEvents";

describe("analysis events", () => {
  it("builds the socket URL from the page's scheme and host", () => {
    expect(socketUrl({ protocol: "http:", host: "127.0.0.1:8000" })).toBe("ws://127.0.0.1:8000/ws/analyses/");
    expect(socketUrl({ protocol: "https:", host: "cdss.example.org" })).toBe("wss://cdss.example.org/ws/analyses/");
  });

  it("recognises status events and nothing else", () => {
    expect(isAnalysisStatusEvent({ type: "analysis.status", analysis_id: 8, status: "COMPLETED" })).toBe(true);
    expect(isAnalysisStatusEvent({ type: "pong" })).toBe(false);
    expect(isAnalysisStatusEvent(null)).toBe(false);
  });
});
