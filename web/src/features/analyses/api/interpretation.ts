// The interpretation of a completed analysis (in the UI's language) and its PDF reports in Korean
// and English. Both are analyses of their own (kinds interpretation and report) that the server
// chains to every completed analysis of an interpretable kind; until one has finished, the GET
// answers 404, which here is "not yet" (null), not an error.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "@/lib/api/client";
import { downloadFile } from "@/lib/api/download";
import { ApiError } from "@/lib/api/errors";
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

/** The latest interpretation in `lang`, or null while there is none; polled while `poll`. */
export function useInterpretation(id: number, lang: ReportLanguage, options: { enabled: boolean; poll: boolean }) {
  return useQuery({
    queryKey: interpretationKeys.latest(id, lang),
    queryFn: async (): Promise<Interpretation | null> => {
      try {
        return await unwrap(api.GET("/api/v1/analyses/{analysis_id}/interpretation/", params(id, lang)));
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
    enabled: options.enabled,
    refetchInterval: (query) => (options.poll && query.state.data === null ? POLL_MS : false),
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
