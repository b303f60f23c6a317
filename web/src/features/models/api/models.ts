// The models feature's server state: the catalog of shipped model versions (/api/v1/models/),
// one model card (Markdown), and retraining the sequence model (/ml/v1/retrain/, ML engineers
// and administrators): the run is an analysis to follow, and its progress is the inference
// server's retrain status in /ml/v1/model-info/.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "@/lib/api/client";
import { apiErrorFrom } from "@/lib/api/errors";
import type { components } from "@/lib/api/schema";

export type CatalogModel = components["schemas"]["CatalogModel"];
export type RetrainInput = components["schemas"]["RetrainInputRequest"];

export const RETRAIN_POLL_MS = 3000;
const FINISHED: ReadonlySet<string> = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/** The retrain status the inference server reports (inference/retrain.py RetrainManager.status). */
export interface RetrainStatus {
  running: boolean;
  state: string;
  progress?: number;
  message?: string;
  version?: string;
  promoted?: boolean;
  job_id?: string;
  started_at?: string;
  finished_at?: string;
}

export const modelKeys = {
  catalog: ["models", "catalog"] as const,
  card: (name: string, version: string) => ["models", "card", name, version] as const,
  info: ["models", "info"] as const,
  job: (id: number) => ["analyses", "detail", id] as const,
};

export function useModelCatalog() {
  return useQuery({
    queryKey: modelKeys.catalog,
    queryFn: () => unwrap(api.GET("/api/v1/models/")),
    staleTime: 60_000,
  });
}

export function useModelCard(name: string, version: string) {
  return useQuery({
    queryKey: modelKeys.card(name, version),
    queryFn: async () => {
      const { data, error, response } = await api.GET("/api/v1/models/{name}/{version}/card/", {
        params: { path: { name, version } },
        headers: { Accept: "text/markdown" },
        parseAs: "text",
      });
      if (!response.ok) throw apiErrorFrom(response.status, typeof error === "string" ? safeJson(error) : error);
      return data as string;
    },
    staleTime: Infinity, // a shipped version's card does not change while the server runs
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A fraction in [0, 1] from the server's progress, or null when it gave none. */
export function progressFraction(status: RetrainStatus | undefined): number | null {
  const value = status?.progress;
  if (typeof value !== "number" || Number.isNaN(value)) return null;
  return Math.min(1, Math.max(0, value));
}

/** The inference server's retrain status; polled while a run is going or one was just queued. */
export function useRetrainStatus(watching: boolean) {
  return useQuery({
    queryKey: modelKeys.info,
    queryFn: async () => {
      const info = await unwrap(api.GET("/ml/v1/model-info/"));
      return info.retrain as unknown as RetrainStatus;
    },
    refetchInterval: (query) => (watching || query.state.data?.running ? RETRAIN_POLL_MS : false),
  });
}

/** The retraining analysis queued here, followed until it finishes. */
export function useRetrainJob(id: number | null) {
  return useQuery({
    queryKey: modelKeys.job(id ?? 0),
    queryFn: () => unwrap(api.GET("/api/v1/analyses/{analysis_id}/", { params: { path: { analysis_id: String(id) } } })),
    enabled: id !== null,
    refetchInterval: (query) => (FINISHED.has(query.state.data?.status ?? "PENDING") ? false : RETRAIN_POLL_MS),
  });
}

export function isFinished(status: string | undefined): boolean {
  return status !== undefined && FINISHED.has(status);
}

export function useStartRetrain() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: RetrainInput) => unwrap(api.POST("/ml/v1/retrain/", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: modelKeys.info }),
  });
}
