import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { renderHookWithProviders, renderWithProviders } from "@/test/render";
import { server } from "@/test/server";

import type { AnalysisDetail } from "./analyses";
import { downloadReport, type Interpretation, POLL_MS, useInterpretation, useRequestInterpretation } from "./interpretation";
import { InterpretationPanel } from "../components/InterpretationPanel";

const interpretation: Interpretation = {
  id: 3,
  analysis: 8,
  job: 9,
  language: "en",
  text: "The liver measures 1500 mL.",
  label: "Generated from the result by rules",
  generated_by: "rules",
  provider: "template",
  model: "ct-template-1",
  prompt_version: "1",
  guard_outcome: "not_applicable",
  guard_notes: [],
  attempts: 1,
  created_at: "2026-11-27T10:02:00Z",
};

const analysis: AnalysisDetail = {
  id: 8,
  kind: "ct",
  patient: 1,
  requested_by: 2,
  status: "COMPLETED",
  error: null,
  created_at: "2026-11-27T10:00:00Z",
  completed_at: "2020-01-01T10:01:00Z", // long ago: no polling for the chained job
  updated_at: "2026-11-27T10:01:00Z",
  result_url: "/api/v1/analyses/8/result/",
  artifacts: [],
};

const notFound = (what: string) => HttpResponse.json({ error: `No ${what} of this analysis in this language yet.`, detail: {} }, { status: 404 });

describe("useInterpretation", () => {
  it("reads the latest interpretation in the language asked for", async () => {
    let lang: string | null = null;
    server.use(
      http.get("*/api/v1/analyses/8/interpretation/", ({ request }) => {
        lang = new URL(request.url).searchParams.get("lang");
        return HttpResponse.json({ ...interpretation, language: "ko" });
      }),
    );
    const { result } = renderHookWithProviders(() => useInterpretation(8, "ko", { enabled: true, poll: false }));
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(lang).toBe("ko");
    expect(result.current.data?.interpretation?.language).toBe("ko");
  });

  it("reads a 404 as none (null, not on its way), not an error", async () => {
    server.use(http.get("*/api/v1/analyses/8/interpretation/", () => notFound("interpretation")));
    const { result } = renderHookWithProviders(() => useInterpretation(8, "en", { enabled: true, poll: false }));
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(result.current.data).toEqual({ interpretation: null, onItsWay: false });
  });

  it("reads a 202 as on its way and asks again until it is there", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let calls = 0;
    server.use(
      http.get("*/api/v1/analyses/8/interpretation/", () => {
        calls += 1;
        return calls < 3
          ? HttpResponse.json({ ...analysis, id: 20, kind: "interpretation", status: "PENDING" }, { status: 202 })
          : HttpResponse.json(interpretation);
      }),
    );
    try {
      const { result } = renderHookWithProviders(() => useInterpretation(8, "en", { enabled: true, poll: false }));
      await waitFor(() => expect(result.current.data?.onItsWay).toBe(true));
      expect(result.current.data?.interpretation).toBeNull();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(2 * POLL_MS + 100);
      });
      await waitFor(() => expect(result.current.data?.interpretation?.id).toBe(3));
      expect(calls).toBe(3);
      // Done: no more polling.
      await act(async () => {
        await vi.advanceTimersByTimeAsync(3 * POLL_MS);
      });
      expect(calls).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it("does not ask again after a 404 unless told to poll", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let calls = 0;
    server.use(
      http.get("*/api/v1/analyses/8/interpretation/", () => {
        calls += 1;
        return notFound("interpretation");
      }),
    );
    try {
      const { result } = renderHookWithProviders(() => useInterpretation(8, "en", { enabled: true, poll: false }));
      await waitFor(() => expect(result.current.isSuccess).toBe(true));
      await act(async () => {
        await vi.advanceTimersByTimeAsync(3 * POLL_MS);
      });
      expect(calls).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("passes on other errors", async () => {
    server.use(http.get("*/api/v1/analyses/8/interpretation/", () => HttpResponse.json({ error: "Boom", detail: {} }, { status: 500 })));
    const { result } = renderHookWithProviders(() => useInterpretation(8, "en", { enabled: true, poll: false }));
    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(result.current.error?.message).toBe("Boom");
  });
});

describe("useRequestInterpretation", () => {
  it("queues one in the language asked for", async () => {
    let lang: string | null = null;
    server.use(
      http.post("*/api/v1/analyses/8/interpretation/", ({ request }) => {
        lang = new URL(request.url).searchParams.get("lang");
        return HttpResponse.json({ ...analysis, id: 20, kind: "interpretation", status: "PENDING" }, { status: 202 });
      }),
    );
    const { result } = renderHookWithProviders(() => useRequestInterpretation(8, "en"));
    let queued: { id: number } | undefined;
    await act(async () => {
      queued = await result.current.mutateAsync();
    });
    expect(queued?.id).toBe(20);
    expect(lang).toBe("en");
  });
});

describe("downloadReport", () => {
  beforeEach(() => {
    URL.createObjectURL = vi.fn(() => "blob:report");
    URL.revokeObjectURL = vi.fn();
  });
  afterEach(() => vi.restoreAllMocks());

  it("downloads the PDF with the session's token, and says false for none yet", async () => {
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});
    server.use(
      http.get("*/api/v1/analyses/8/report/", ({ request }) =>
        new URL(request.url).searchParams.get("lang") === "ko"
          ? new HttpResponse(new Uint8Array([37, 80, 68, 70]), {
              headers: { "Content-Type": "application/pdf", "Content-Disposition": 'attachment; filename="report-ko.pdf"' },
            })
          : notFound("report"),
      ),
    );
    await expect(downloadReport(8, "ko")).resolves.toBe(true);
    expect(click).toHaveBeenCalledTimes(1);
    await expect(downloadReport(8, "en")).resolves.toBe(false);
    expect(click).toHaveBeenCalledTimes(1);
  });
});

describe("InterpretationPanel", () => {
  it("says it is being prepared while the server has one on its way (202)", async () => {
    server.use(
      http.get("*/api/v1/analyses/8/interpretation/", () =>
        HttpResponse.json({ ...analysis, id: 20, kind: "interpretation", status: "PROCESSING" }, { status: 202 }),
      ),
      http.get("*/api/v1/analyses/8/report/", () => notFound("report")),
    );
    renderWithProviders(<InterpretationPanel analysis={analysis} />);
    expect(await screen.findByText("Not written yet: the interpretation is being prepared.")).toBeInTheDocument();
  });

  it("shows the text with its label and provenance", async () => {
    server.use(http.get("*/api/v1/analyses/8/interpretation/", () => HttpResponse.json(interpretation)));
    renderWithProviders(<InterpretationPanel analysis={analysis} />);
    expect(await screen.findByText("The liver measures 1500 mL.")).toBeInTheDocument();
    expect(screen.getByTestId("interpretation-label")).toHaveTextContent("Generated from the result by rules");
    expect(screen.getByText(/template \(ct-template-1\)/)).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Ask for a new interpretation" })).toBeInTheDocument();
  });

  it("says none yet, queues one on request, and offers a report to generate when there is none", async () => {
    let posted = 0;
    let reportPosted: string | null = null;
    server.use(
      http.get("*/api/v1/analyses/8/interpretation/", () => notFound("interpretation")),
      http.post("*/api/v1/analyses/8/interpretation/", () => {
        posted += 1;
        return HttpResponse.json({ ...analysis, id: 20, kind: "interpretation", status: "PENDING" }, { status: 202 });
      }),
      http.get("*/api/v1/analyses/20/", () => HttpResponse.json({ ...analysis, id: 20, kind: "interpretation", status: "PENDING" })),
      http.get("*/api/v1/analyses/8/report/", () => notFound("report")),
      http.post("*/api/v1/analyses/8/report/", ({ request }) => {
        reportPosted = new URL(request.url).searchParams.get("lang");
        return HttpResponse.json({ ...analysis, id: 21, kind: "report", status: "PENDING" }, { status: 202 });
      }),
      http.get("*/api/v1/analyses/21/", () => HttpResponse.json({ ...analysis, id: 21, kind: "report", status: "PENDING" })),
    );
    const user = userEvent.setup();
    renderWithProviders(<InterpretationPanel analysis={analysis} />);
    expect(await screen.findByText("No interpretation in this language yet.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Write an interpretation" }));
    await waitFor(() => expect(posted).toBe(1));
    expect(await screen.findByText("Not written yet: the interpretation is being prepared.")).toBeInTheDocument();

    await user.click(screen.getByTestId("report-en"));
    expect(await screen.findByText("Not ready yet.")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Generate" }));
    await waitFor(() => expect(reportPosted).toBe("en"));
    expect(await screen.findByText("Being generated; download it again in a moment.")).toBeInTheDocument();
  });
});
