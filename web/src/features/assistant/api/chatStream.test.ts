import { describe, expect, it } from "vitest";

import type { Message } from "./assistant";
import { chatSocketUrl, initialStream, isActive, parseFrame, type StreamAction, streamReducer } from "./chatStream";

const citation = { n: 1, document: "README.md", section: "CT", document_id: 4, analysis_id: null, page: 2, excerpt: "L3 is found…", score: 0.8 };

const message: Message = {
  id: 11,
  role: "assistant",
  content: "The L3 level is found by rules [1].",
  answer_kind: "retrieved",
  citations: [citation],
  provider: "",
  model: "",
  guard_outcome: "not_applicable",
  guard_notes: [],
  prompt_tokens: 0,
  completion_tokens: 0,
  latency_ms: 120,
  created_at: "2026-11-27T10:00:00Z",
};

const run = (actions: StreamAction[]) => actions.reduce(streamReducer, initialStream);

describe("streamReducer", () => {
  it("appends delta frames in order after the sources, then keeps the stored message", () => {
    const asked = run([{ type: "ask", content: "How is L3 found?" }]);
    expect(asked.phase).toBe("waiting");
    expect(isActive(asked)).toBe(true);

    const streaming = run([
      { type: "ask", content: "How is L3 found?" },
      { type: "sources", sources: [citation] },
      { type: "delta", text: "The L3 level " },
      { type: "delta", text: "is found by rules " },
    ]);
    expect(streaming.phase).toBe("streaming");
    expect(streaming.text).toBe("The L3 level is found by rules ");
    expect(streaming.sources).toEqual([citation]);

    const done = streamReducer(streaming, { type: "done", message });
    expect(done.phase).toBe("done");
    expect(done.text).toBe(message.content);
    expect(done.message?.id).toBe(11);
    expect(isActive(done)).toBe(false);
  });

  it("starts each question afresh", () => {
    const state = run([
      { type: "ask", content: "first" },
      { type: "delta", text: "old text" },
      { type: "ask", content: "second" },
    ]);
    expect(state).toEqual({ ...initialStream, phase: "waiting", question: "second" });
  });

  it("marks a cancelled answer and ignores frames that arrive after it", () => {
    const cancelled = run([
      { type: "ask", content: "q" },
      { type: "delta", text: "partial" },
      { type: "error", code: "cancelled", error: "Cancelled; the answer was not stored." },
      { type: "delta", text: " late" },
    ]);
    expect(cancelled.phase).toBe("cancelled");
    expect(cancelled.text).toBe("partial");
  });

  it("keeps writing when a second question is refused as busy, and reports other errors", () => {
    const busy = run([{ type: "ask", content: "q" }, { type: "delta", text: "a" }, { type: "error", code: "busy", error: "busy" }]);
    expect(busy.phase).toBe("streaming");
    const failed = run([{ type: "ask", content: "q" }, { type: "error", code: "internal_error", error: "The answer could not be written." }]);
    expect(failed).toMatchObject({ phase: "error", errorCode: "internal_error", error: "The answer could not be written." });
  });

  it("ignores frames when nothing was asked, and resets", () => {
    expect(streamReducer(initialStream, { type: "delta", text: "x" })).toBe(initialStream);
    expect(streamReducer(run([{ type: "ask", content: "q" }]), { type: "reset" })).toEqual(initialStream);
  });
});

describe("parseFrame", () => {
  it("reads the server's frames and rejects anything else", () => {
    expect(parseFrame('{"type":"delta","text":"hi"}')).toEqual({ type: "delta", text: "hi" });
    expect(parseFrame('{"type":"sources","sources":[]}')).toEqual({ type: "sources", sources: [] });
    expect(parseFrame('{"type":"error","code":"cancelled","error":"x"}')).toEqual({ type: "error", code: "cancelled", error: "x" });
    expect(parseFrame('{"type":"delta"}')).toBeNull();
    expect(parseFrame("not json")).toBeNull();
    expect(parseFrame('{"type":"other"}')).toBeNull();
  });

  it("builds the session's socket URL", () => {
    expect(chatSocketUrl({ protocol: "https:", host: "cdss.example.org" }, 5)).toBe("wss://cdss.example.org/ws/chat/5/");
    expect(chatSocketUrl({ protocol: "http:", host: "127.0.0.1:8000" }, 5)).toBe("ws://127.0.0.1:8000/ws/chat/5/");
  });
});
