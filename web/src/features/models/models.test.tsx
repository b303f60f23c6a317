import { MantineProvider } from "@mantine/core";
import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { Route, Routes, MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";

import { renderWithProviders, testQueryClient } from "@/test/render";
import { server } from "@/test/server";

import { progressFraction } from "./api/models";
import { markdownToSafeHtml } from "./components/Markdown";
import { RetrainPanel } from "./components/RetrainPanel";
import { ModelsPage } from "./routes/ModelsPage";

/** The card page at `path`, with its own router (renderWithProviders brings one without params). */
async function renderCardPage(path: string) {
  const { ModelCardPage } = await import("./routes/ModelCardPage");
  return render(
    <MantineProvider>
      <QueryClientProvider client={testQueryClient()}>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route path="/models/:name/:version/card" element={<ModelCardPage />} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
}

const me = (role: string) => ({ id: 1, username: "u", email: "", first_name: "", last_name: "", role, last_login: null });

const catalog = {
  results: [
    {
      name: "cdss-pathogen-sequence",
      version: "seq-2026.11.3",
      kind: "trained",
      family: "sequence",
      also_known_as: [],
      current: true,
      metrics: { "task1.roc_auc": 0.955, "task1.accuracy": 0.9 },
      card_url: "/api/v1/models/cdss-pathogen-sequence/seq-2026.11.3/card/",
    },
    {
      name: "cdss-ct-hu-rules",
      version: "2026.11.1",
      kind: "rules",
      family: "ct-hu-rules",
      also_known_as: [],
      current: true,
      metrics: {},
      card_url: "/api/v1/models/cdss-ct-hu-rules/2026.11.1/card/",
    },
  ],
};

describe("model cards", () => {
  it("renders Markdown and strips anything that could run", () => {
    const html = markdownToSafeHtml("# Card\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n<script>alert(1)</script><img src=x onerror=alert(1)>");
    expect(html).toContain("<h1>Card</h1>");
    expect(html).toContain("<table>");
    expect(html).not.toContain("<script");
    expect(html).not.toContain("onerror");
  });

  it("shows the card page from the API's Markdown", async () => {
    server.use(
      http.get("*/api/v1/models/", () => HttpResponse.json(catalog)),
      http.get("*/api/v1/models/cdss-ct-hu-rules/2026.11.1/card/", () =>
        new HttpResponse("# Model card: HU rules\n\n**Not a medical device.**", { headers: { "Content-Type": "text/markdown; charset=utf-8" } }),
      ),
    );
    await renderCardPage("/models/cdss-ct-hu-rules/2026.11.1/card");
    const card = await screen.findByTestId("model-card", {}, { timeout: 4000 });
    expect(within(card).getByRole("heading", { name: "Model card: HU rules" })).toBeInTheDocument();
    expect(await screen.findByText("Rules")).toBeInTheDocument();
    expect(screen.getByTestId("disclaimer")).toBeInTheDocument();
  });

  it("shows the API's message for a card that is not in the catalog", async () => {
    server.use(
      http.get("*/api/v1/models/", () => HttpResponse.json(catalog)),
      http.get("*/api/v1/models/nope/1/card/", () => HttpResponse.json({ error: "No such model version in the catalog.", detail: {} }, { status: 404 })),
    );
    await renderCardPage("/models/nope/1/card");
    expect(await screen.findByText("No such model version in the catalog.", {}, { timeout: 4000 })).toBeInTheDocument();
  });
});

describe("ModelsPage", () => {
  it("lists the catalog for a clinician, without retraining", async () => {
    server.use(
      http.get("*/api/v1/auth/me/", () => HttpResponse.json(me("clinician"))),
      http.get("*/api/v1/models/", () => HttpResponse.json(catalog)),
    );
    renderWithProviders(<ModelsPage />);
    const table = await screen.findByTestId("models-table", {}, { timeout: 4000 });
    const link = within(table).getAllByRole("link", { name: "cdss-pathogen-sequence" })[0];
    expect(link).toHaveAttribute("href", "/models/cdss-pathogen-sequence/seq-2026.11.3/card");
    expect(within(table).getAllByText("task1.roc_auc").length).toBeGreaterThan(0);
    expect(within(table).getAllByText("In use").length).toBeGreaterThan(0);
    await waitFor(() => expect(screen.queryByTestId("retrain-panel")).toBeNull());
  });

  it("offers retraining to an ML engineer", async () => {
    server.use(
      http.get("*/api/v1/auth/me/", () => HttpResponse.json(me("ml_engineer"))),
      http.get("*/api/v1/models/", () => HttpResponse.json(catalog)),
      http.get("*/ml/v1/model-info/", () => HttpResponse.json({ ok: true, engines: {}, limits: {}, disclaimer: "", retrain: { running: false, state: "idle" } })),
    );
    renderWithProviders(<ModelsPage />);
    expect(await screen.findByTestId("retrain-panel", {}, { timeout: 4000 })).toBeInTheDocument();
    expect(await screen.findByTestId("retrain-state")).toHaveTextContent("Idle");
  });
});

describe("RetrainPanel", () => {
  it("queues a run and shows its progress from model-info", { timeout: 20000 }, async () => {
    let body: unknown = null;
    let started = false;
    server.use(
      http.get("*/ml/v1/model-info/", () =>
        HttpResponse.json({
          ok: true,
          engines: {},
          limits: {},
          disclaimer: "Not a medical device",
          retrain: started ? { running: true, state: "running", progress: 0.42, message: "epoch 2/5" } : { running: false, state: "idle" },
        }),
      ),
      http.post("*/ml/v1/retrain/", async ({ request }) => {
        body = await request.json();
        started = true;
        return HttpResponse.json({ ok: true, status: "PENDING", analysis_id: 77, location: "/api/v1/analyses/77/", message: "queued" });
      }),
      http.get("*/api/v1/analyses/77/", () =>
        HttpResponse.json({ id: 77, kind: "sequence_retrain", status: "PROCESSING", patient: null, requested_by: 1, error: null, created_at: "", updated_at: "", result_url: null, artifacts: [] }),
      ),
    );
    const ui = userEvent.setup();
    renderWithProviders(<RetrainPanel />);
    await ui.type(await screen.findByLabelText(/Training data folder/), "/srv/train");
    await ui.type(screen.getByLabelText("Epochs"), "5");
    await ui.click(screen.getByRole("button", { name: "Start retraining" }));
    await waitFor(() => expect(body).toEqual({ training_data_path: "/srv/train", epochs: 5 }));
    const progress = await screen.findByTestId("retrain-progress", {}, { timeout: 8000 });
    expect(within(progress).getByText("42% · epoch 2/5")).toBeInTheDocument();
    expect(screen.getByTestId("retrain-job")).toHaveTextContent("#77");
    expect(screen.getByRole("button", { name: "Start retraining" })).toBeDisabled();
  });

  it("shows the API's message for a refused request", async () => {
    server.use(
      http.get("*/ml/v1/model-info/", () => HttpResponse.json({ ok: true, engines: {}, limits: {}, disclaimer: "", retrain: { running: false, state: "idle" } })),
      http.post("*/ml/v1/retrain/", () =>
        HttpResponse.json(
          { error: "Invalid input: training_data_path: Must be an absolute path without '..'.", detail: { training_data_path: ["Must be an absolute path without '..'."] } },
          { status: 400 },
        ),
      ),
    );
    const ui = userEvent.setup();
    renderWithProviders(<RetrainPanel />);
    await ui.type(await screen.findByLabelText(/Training data folder/), "relative/path");
    await ui.click(screen.getByRole("button", { name: "Start retraining" }));
    expect(await screen.findByText(/Invalid input: training_data_path/)).toBeInTheDocument();
  });

  it("reads progress as a bounded fraction", () => {
    expect(progressFraction({ running: true, state: "running", progress: 1.7 })).toBe(1);
    expect(progressFraction({ running: true, state: "running" })).toBeNull();
    expect(progressFraction(undefined)).toBeNull();
  });
});
