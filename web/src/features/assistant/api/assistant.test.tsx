import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import { renderHookWithProviders, renderWithProviders } from "@/test/render";
import { server } from "@/test/server";

import { ChatView } from "../components/ChatView";
import { type Message, useAskRest, useCreateSession, useMessages, useSessions } from "./assistant";

const session = { id: 5, title: "CT", patient: 1, prompt_template: null, created_at: "2026-11-27T10:00:00Z", updated_at: "2026-11-27T10:00:00Z" };

const answer: Message = {
  id: 12,
  role: "assistant",
  content: "L3 is found from the vertebrae by HU rules [1].",
  answer_kind: "retrieved",
  citations: [
    { n: 1, document: "README.md", section: "CT analyses", document_id: 1, analysis_id: null, page: 3, excerpt: "The L3 slice is chosen…", score: 0.7 },
  ],
  provider: "",
  model: "",
  guard_outcome: "not_applicable",
  guard_notes: [],
  prompt_tokens: 0,
  completion_tokens: 0,
  latency_ms: 40,
  created_at: "2026-11-27T10:01:00Z",
};

const question: Message = { ...answer, id: 11, role: "user", content: "How is L3 found?", answer_kind: "question", citations: [] };

const page = <T,>(results: T[]) => ({ count: results.length, next: null, previous: null, results });

describe("sessions", () => {
  it("lists the user's sessions", async () => {
    server.use(http.get("*/api/v1/assistant/sessions/", () => HttpResponse.json(page([session]))));
    const { result } = renderHookWithProviders(() => useSessions());
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(result.current.data?.results[0].title).toBe("CT");
  });

  it("creates one about a patient", async () => {
    let body: unknown = null;
    server.use(
      http.post("*/api/v1/assistant/sessions/", async ({ request }) => {
        body = await request.json();
        return HttpResponse.json(session, { status: 201 });
      }),
    );
    const { result } = renderHookWithProviders(() => useCreateSession());
    await act(async () => {
      await result.current.mutateAsync({ patient: 1, title: "CT" });
    });
    expect(body).toEqual({ patient: 1, title: "CT" });
  });

  it("passes on the API's refusal of a patient not in the care team", async () => {
    server.use(
      http.post("*/api/v1/assistant/sessions/", () =>
        HttpResponse.json({ error: "Invalid input: patient: No such patient.", detail: {} }, { status: 400 }),
      ),
    );
    const { result } = renderHookWithProviders(() => useCreateSession());
    await act(async () => {
      await result.current.mutateAsync({ patient: 99 }).catch(() => undefined);
    });
    expect(result.current.error?.message).toBe("Invalid input: patient: No such patient.");
  });
});

describe("messages", () => {
  it("lists a session's messages and asks over REST", async () => {
    let asked: unknown = null;
    server.use(
      http.get("*/api/v1/assistant/sessions/5/messages/", () => HttpResponse.json(page([question, answer]))),
      http.post("*/api/v1/assistant/sessions/5/messages/", async ({ request }) => {
        asked = await request.json();
        return HttpResponse.json(answer, { status: 201 });
      }),
    );
    const list = renderHookWithProviders(() => useMessages(5));
    await waitFor(() => expect(list.result.current.data?.results).toHaveLength(2));
    const ask = renderHookWithProviders(() => useAskRest(5));
    let stored: Message | undefined;
    await act(async () => {
      stored = await ask.result.current.mutateAsync("How is L3 found?");
    });
    expect(asked).toEqual({ content: "How is L3 found?" });
    expect(stored?.citations[0].document).toBe("README.md");
  });
});

describe("ChatView", () => {
  it("falls back to REST without a socket, labels the answer and opens a citation's excerpt", async () => {
    const stored: Message[] = [];
    server.use(
      http.get("*/api/v1/assistant/sessions/5/messages/", () => HttpResponse.json(page(stored))),
      http.post("*/api/v1/assistant/sessions/5/messages/", () => {
        stored.push(question, answer);
        return HttpResponse.json(answer, { status: 201 });
      }),
    );
    const user = userEvent.setup();
    renderWithProviders(<ChatView sessionId={5} />);
    expect(await screen.findByText("Ask a question to start.")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Your question"), "How is L3 found?");
    await user.click(screen.getByRole("button", { name: "Ask" }));

    expect(await screen.findByText(answer.content)).toBeInTheDocument();
    expect(screen.getByTestId("answer-kind")).toHaveTextContent("Retrieved text");
    await waitFor(() => expect(screen.getAllByTestId("question")).toHaveLength(1));
    const control = screen.getByRole("button", { name: /\[1\]\s*README\.md · p\. 3/ });
    expect(control).toHaveAttribute("aria-expanded", "false");
    await user.click(control);
    expect(control).toHaveAttribute("aria-expanded", "true");
    expect(screen.getByText("The L3 slice is chosen…")).toBeInTheDocument();
  });
});
