// The interpretation of a completed analysis (in the UI's language) and its PDF reports in Korean
// and English. Both are analyses of their own (kinds interpretation and report) that the server
// chains to every completed analysis of an interpretable kind. Until one has finished, the GET
// answers 202 with the job on its way (polled) or 404 when none is (not polled again); both are
// "not yet" (null) here, not an error.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "@/lib/api/client";
import { downloadFile } from "@/lib/api/download";
import { ApiError, apiErrorFrom } from "@/lib/api/errors";
import type { components } from "@/lib/api/schema";

export type Interpretation = components["schemas"]["Interpretation"];
export type ReportLanguage = components["schemas"]["LanguageEnum"];

export const REPORT_LANGUAGES: readonly ReportLanguage[] = ["ko", "en"];

/** The kinds the server interprets and reports on (cdss/reports/facts.py INTERPRETABLE_KINDS). */
export const INTERPRETABLE_KINDS: ReadonlySet<string> = new Set(["sequence_batch", "omics_rosmap", "omics_paad_survival", "ct"]);

/** The kinds that belong to another analysis (shown on its page, not as analyses of their own). */
export const DERIVED_KINDS: ReadonlySet<string> = new Set(["interpretation", "report"]);

export const POLL_MS = 5000;

export const interpretationKeys = {
  all: (id: number) => ["analyses", "detail", id, "interpretation"] as const,
  latest: (id: number, lang: ReportLanguage) => ["analyses", "detail", id, "interpretation", lang] as const,
};

const params = (id: number, lang: ReportLanguage) => ({
  params: { path: { analysis_id: String(id) }, query: { lang } },
});

export function isLanguage(value: string | undefined): value is ReportLanguage {
  return value === "ko" || value === "en";
}

/** What the GET answered: the interpretation, one on its way (202), or none at all (404). */
export interface InterpretationState {
  interpretation: Interpretation | null;
  onItsWay: boolean;
}

export async function fetchInterpretation(id: number, lang: ReportLanguage): Promise<InterpretationState> {
  const { data, error, response } = await api.GET("/api/v1/analyses/{analysis_id}/interpretation/", params(id, lang));
  if (response.status === 202) return { interpretation: null, onItsWay: true };
  if (response.status === 404) return { interpretation: null, onItsWay: false };
  if (!response.ok) throw apiErrorFrom(response.status, error);
  return { interpretation: data as Interpretation, onItsWay: false };
}

/**
 * The latest interpretation in `lang` (null while there is none) and whether one is on its way.
 * Polled while one is on its way (the server's 202), or while `poll` (a job just asked for).
 */
export function useInterpretation(id: number, lang: ReportLanguage, options: { enabled: boolean; poll: boolean }) {
  return useQuery({
    queryKey: interpretationKeys.latest(id, lang),
    queryFn: () => fetchInterpretation(id, lang),
    enabled: options.enabled,
    refetchInterval: (query) => {
      const state = query.state.data;
      if (!state || state.interpretation !== null) return false;
      return state.onItsWay || options.poll ? POLL_MS : false;
    },
  });
}

/** Queues a new interpretation in `lang`; answers the queued analysis (kind interpretation). */
export function useRequestInterpretation(id: number, lang: ReportLanguage) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/analyses/{analysis_id}/interpretation/", params(id, lang))),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: interpretationKeys.all(id) }),
  });
}

/** Queues a new PDF report in `lang`; answers the queued analysis (kind report). */
export function useRequestReport(id: number) {
  return useMutation({
    mutationFn: (lang: ReportLanguage) => unwrap(api.POST("/api/v1/analyses/{analysis_id}/report/", params(id, lang))),
  });
}

export function reportUrl(id: number, lang: ReportLanguage): string {
  return `/api/v1/analyses/${id}/report/?lang=${lang}`;
}

/** Downloads the latest report in `lang`; false when there is none yet (404). */
export async function downloadReport(id: number, lang: ReportLanguage): Promise<boolean> {
  try {
    await downloadFile(reportUrl(id, lang), `report-${lang}.pdf`);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return false;
    throw error;
  }
}

/** One queued job (an interpretation or report) followed until it finishes. */
export function useJobStatus(jobId: number | null) {
  return useQuery({
    queryKey: ["analyses", "detail", jobId ?? 0],
    queryFn: () => unwrap(api.GET("/api/v1/analyses/{analysis_id}/", { params: { path: { analysis_id: String(jobId) } } })),
    enabled: jobId !== null,
    refetchInterval: (query) =>
      ["COMPLETED", "FAILED", "CANCELLED"].includes(query.state.data?.status ?? "PENDING") ? false : POLL_MS,
  });
}
