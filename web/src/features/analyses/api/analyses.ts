// The analyses feature's server state: one analysis with its artifacts, its result, submitting,
// cancelling and retrying, and the patient files an analysis form picks from or uploads.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "@/lib/api/client";
import type { components } from "@/lib/api/schema";
import { type FileRole, uploadPatientFile, type UploadOptions } from "@/lib/api/upload";

export type AnalysisDetail = components["schemas"]["AnalysisDetail"];
export type Artifact = components["schemas"]["AnalysisArtifact"];
export type AnalysisCreate = components["schemas"]["AnalysisCreateRequest"];
export type AnalysisResult = components["schemas"]["AnalysisResultData"];
export type AnalysisStatus = components["schemas"]["StatusEnum"];

export const TERMINAL: ReadonlySet<string> = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

export const analysisKeys = {
  detail: (id: number) => ["analyses", "detail", id] as const,
  result: (id: number) => ["analyses", "detail", id, "result"] as const,
  files: (patientId: number, role: FileRole) => ["patients", "detail", patientId, "files", { role }] as const,
  patient: (patientId: number) => ["patients", "detail", patientId] as const,
};

const path = (id: number) => ({ params: { path: { analysis_id: String(id) } } });

/** One analysis; while it is not finished and no live socket is open, it is polled. */
export function useAnalysis(id: number, polling: boolean) {
  return useQuery({
    queryKey: analysisKeys.detail(id),
    queryFn: () => unwrap(api.GET("/api/v1/analyses/{analysis_id}/", path(id))),
    refetchInterval: (query) => (polling && !TERMINAL.has(query.state.data?.status ?? "PENDING") ? 5000 : false),
  });
}

export function useAnalysisResult(id: number, enabled: boolean) {
  return useQuery({
    queryKey: analysisKeys.result(id),
    queryFn: () => unwrap(api.GET("/api/v1/analyses/{analysis_id}/result/", path(id))) as Promise<AnalysisResult>,
    enabled,
    staleTime: Infinity, // a completed analysis's result never changes
  });
}

export function useSubmitAnalysis() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: AnalysisCreate) => unwrap(api.POST("/api/v1/analyses/", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["analyses", "list"] }),
  });
}

export function useCancelAnalysis(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/analyses/{analysis_id}/cancel/", path(id))),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: analysisKeys.detail(id) }),
  });
}

export function useRetryAnalysis(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/analyses/{analysis_id}/retry/", path(id))),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: analysisKeys.detail(id) }),
  });
}

export function usePatientSummary(patientId: number | null | undefined) {
  return useQuery({
    queryKey: analysisKeys.patient(patientId ?? 0),
    queryFn: () =>
      unwrap(api.GET("/api/v1/patients/{patient_id}/", { params: { path: { patient_id: String(patientId) } } })),
    enabled: typeof patientId === "number",
  });
}

/** The patient's files of one role, newest first (the first page: what a form offers). */
export function usePatientFilesOfRole(patientId: number, role: FileRole) {
  return useQuery({
    queryKey: analysisKeys.files(patientId, role),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/patients/{patient_id}/files/", {
          params: { path: { patient_id: String(patientId) }, query: { role, page_size: 50 } },
        }),
      ),
  });
}

export function uploadForAnalysis(patientId: number, role: FileRole, file: File, options: UploadOptions) {
  return uploadPatientFile(patientId, role, file, options);
}
