// The patients feature's server state: list and search, one patient, create and edit, the
// patient's files (with upload) and the patient's analyses.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "@/lib/api/client";
import type { components } from "@/lib/api/schema";
import { type FileRole, uploadPatientFile } from "@/lib/api/upload";

export type Patient = components["schemas"]["PatientOutput"];
export type PatientInput = components["schemas"]["PatientInputRequest"];
export type PatientFile = components["schemas"]["PatientFileOutput"];
export type Analysis = components["schemas"]["AnalysisOutput"];

export const PAGE_SIZE = 20;

export const patientKeys = {
  all: ["patients"] as const,
  list: (search: string, page: number) => ["patients", "list", { search, page }] as const,
  detail: (id: number) => ["patients", "detail", id] as const,
  files: (id: number) => ["patients", "detail", id, "files"] as const,
  analyses: (id: number) => ["analyses", "list", { patient: id }] as const,
};

export function usePatients(search: string, page: number) {
  return useQuery({
    queryKey: patientKeys.list(search, page),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/patients/", {
          params: { query: { search: search || undefined, page, page_size: PAGE_SIZE } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

export function usePatient(id: number) {
  return useQuery({
    queryKey: patientKeys.detail(id),
    queryFn: () => unwrap(api.GET("/api/v1/patients/{patient_id}/", { params: { path: { patient_id: String(id) } } })),
  });
}

export function useCreatePatient() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: PatientInput) => unwrap(api.POST("/api/v1/patients/", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: patientKeys.all }),
  });
}

export function useUpdatePatient(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: Partial<PatientInput>) =>
      unwrap(api.PATCH("/api/v1/patients/{patient_id}/", { params: { path: { patient_id: String(id) } }, body })),
    onSuccess: (patient) => {
      queryClient.setQueryData(patientKeys.detail(id), patient);
      return queryClient.invalidateQueries({ queryKey: patientKeys.all });
    },
  });
}

export function usePatientFiles(id: number, page = 1) {
  return useQuery({
    queryKey: [...patientKeys.files(id), page],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/patients/{patient_id}/files/", {
          params: { path: { patient_id: String(id) }, query: { page, page_size: PAGE_SIZE } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

export function useUploadPatientFile(id: number) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (args: { role: FileRole; file: File; onProgress: (fraction: number) => void }) =>
      uploadPatientFile(id, args.role, args.file, { onProgress: args.onProgress }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: patientKeys.files(id) }),
  });
}

/** The kinds that belong to another analysis (its interpretation and PDF reports, shown on its
 * page): the patient's list asks the API to leave them out, so its pages and count stay whole. */
export const DERIVED_KINDS = ["interpretation", "report"] as const;

export function usePatientAnalyses(id: number, page = 1) {
  return useQuery({
    queryKey: [...patientKeys.analyses(id), page],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/analyses/", {
          params: { query: { patient: id, page, page_size: PAGE_SIZE, exclude_kind: DERIVED_KINDS.join(",") } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}
