import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { setTokens } from "@/lib/auth/tokens";
import { renderWithProviders } from "@/test/render";
import { server } from "@/test/server";

import type { Message } from "../api/assistant";
import { ChatView } from "./ChatView";

// A WebSocket that opens at once and lets the test play the server.
class FakeSocket {
  static last: FakeSocket | null = null;
  static OPEN = 1;
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(
    readonly url: string,
    readonly protocols: string[],
  ) {
    FakeSocket.last = this;
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.();
    }, 0);
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  serve(frame: unknown) {
    act(() => this.onmessage?.({ data: JSON.stringify(frame) }));
  }
}

const citation = { n: 1, document: "guideline.pdf", section: "", document_id: 2, analysis_id: null, page: 4, excerpt: "Follow up in 3 months.", score: 0.6 };

const answer: Message = {
  id: 31,
  role: "assistant",
  content: "Follow up in 3 months [1].",
  answer_kind: "generated",
  citations: [citation],
  provider: "openai",
  model: "gpt-x",
  guard_outcome: "passed",
  guard_notes: [],
  prompt_tokens: 10,
  completion_tokens: 5,
  latency_ms: 900,
  created_at: "2026-11-27T10:01:00Z",
};

describe("ChatView over the socket", () => {
  const original = globalThis.WebSocket;
  beforeEach(() => {
    vi.stubGlobal("WebSocket", FakeSocket);
    setTokens({ access: "access-token", refresh: "refresh-token" });
  });
  afterEach(() => {
    vi.stubGlobal("WebSocket", original);
    vi.unstubAllGlobals();
  });

  it("streams an answer, can stop it, then shows a finished one labelled AI-generated", async () => {
    const stored: Message[] = [];
    server.use(
      http.get("*/api/v1/assistant/sessions/7/messages/", () =>
        HttpResponse.json({ count: stored.length, next: null, previous: null, results: stored }),
      ),
    );
    const user = userEvent.setup();
    renderWithProviders(<ChatView sessionId={7} />);
    await screen.findByText("Live");
    const socket = FakeSocket.last!;
    expect(socket.url).toMatch(/\/ws\/chat\/7\/$/);
    expect(socket.protocols).toEqual(["cdss.bearer", "access-token"]);

    await user.type(screen.getByLabelText("Your question"), "When to follow up?");
    await user.click(screen.getByRole("button", { name: "Ask" }));
    expect(socket.sent).toEqual([{ type: "ask", content: "When to follow up?" }]);
    socket.serve({ type: "sources", sources: [citation] });
    socket.serve({ type: "delta", text: "Follow up " });
    socket.serve({ type: "delta", text: "in 3 months" });
    expect(screen.getByText("Follow up in 3 months")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Stop" }));
    expect(socket.sent[1]).toEqual({ type: "cancel" });
    socket.serve({ type: "error", code: "cancelled", error: "Cancelled; the answer was not stored." });
    expect(await screen.findByTestId("cancelled")).toBeInTheDocument();

    await user.type(screen.getByLabelText("Your question"), "Again?");
    await user.click(screen.getByRole("button", { name: "Ask" }));
    socket.serve({ type: "sources", sources: [citation] });
    socket.serve({ type: "delta", text: "Follow up in 3 months [1]." });
    stored.push({ ...answer, id: 30, role: "user", content: "Again?", answer_kind: "question", citations: [] }, answer);
    socket.serve({ type: "done", message: answer });
    await waitFor(() => expect(screen.getByTestId("answer-kind")).toHaveTextContent("AI-generated"));
    expect(screen.getByText("openai · gpt-x")).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId("answer")).toHaveLength(1));
  });
});
