// Patient file uploads with progress. fetch cannot report upload progress, so this one call uses
// XMLHttpRequest, with the same token handling as authFetch (a 401 refreshes once and retries).
import { getAccessToken, refreshAccessToken } from "@/lib/auth/tokens";

import { apiOrigin } from "./client";
import { apiErrorFrom, NetworkError } from "./errors";
import type { components } from "./schema";

export type PatientFile = components["schemas"]["PatientFileOutput"];
export type FileRole = components["schemas"]["PatientFileRoleEnum"];

export interface UploadOptions {
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

interface XhrAnswer {
  status: number;
  body: unknown;
}

function send(url: string, form: FormData, token: string | null, options: UploadOptions): Promise<XhrAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", "application/json");
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) options.onProgress?.(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new NetworkError());
    xhr.onabort = () => reject(new DOMException("Upload cancelled", "AbortError"));
    options.signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/** Uploads one file for a patient (role decides how the server checks it); resolves to the stored file. */
export async function uploadPatientFile(
  patientId: number,
  role: FileRole,
  file: File,
  options: UploadOptions = {},
): Promise<PatientFile> {
  const url = new URL(`/api/v1/patients/${patientId}/files/`, apiOrigin()).toString();
  const form = () => {
    const data = new FormData();
    data.append("role", role);
    data.append("file", file, file.name);
    return data;
  };
  let answer = await send(url, form(), getAccessToken(), options);
  if (answer.status === 401) {
    const token = await refreshAccessToken();
    if (token) answer = await send(url, form(), token, options);
  }
  if (answer.status !== 201) throw apiErrorFrom(answer.status, answer.body);
  options.onProgress?.(1);
  return answer.body as PatientFile;
}
