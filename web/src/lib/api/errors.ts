// API errors in the one shape the server uses everywhere (cdss/common/exceptions.py):
// {"error": "<message>", "detail": {...}, "request_id"?: "..."} (request_id on 5xx only).
import type { components } from "./schema";

export type ApiErrorBody = components["schemas"]["Error"];

export class ApiError extends Error {
  readonly status: number;
  readonly detail: Record<string, unknown>;
  readonly requestId: string | undefined;

  constructor(status: number, message: string, detail: Record<string, unknown> = {}, requestId?: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.requestId = requestId;
  }
}

/** A network failure: no answer from the server at all. */
export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super("network");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  return typeof value === "object" && value !== null && typeof (value as { error?: unknown }).error === "string";
}

/** The ApiError for a failed response's parsed body (or the status alone when it had none). */
export function apiErrorFrom(status: number, body: unknown): ApiError {
  if (isErrorBody(body)) {
    return new ApiError(status, body.error, (body.detail as Record<string, unknown>) ?? {}, body.request_id);
  }
  return new ApiError(status, "");
}

/** The ApiError of a failed fetch Response (reads its body). */
export async function apiErrorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return apiErrorFrom(response.status, body);
}

/**
 * What to show a person for an error: the API's own message where it gave one, else a
 * translated message for the status or for a network failure.
 */
export function errorMessage(error: unknown, t: (key: string) => string): string {
  if (error instanceof ApiError) {
    if (error.message) return error.message;
    if (error.status === 401) return t("errors.unauthorized");
    if (error.status === 403) return t("errors.forbidden");
    if (error.status === 404) return t("errors.notFound");
    if (error.status === 413) return t("errors.tooLarge");
    if (error.status >= 500) return t("errors.server");
    return t("errors.unknown");
  }
  if (error instanceof NetworkError || error instanceof TypeError) return t("errors.network");
  return t("errors.unknown");
}
