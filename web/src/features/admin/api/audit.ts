// The audit trail (/api/v1/audit/events/, administrators): filtered by user, patient, action,
// outcome and time, newest first, a page at a time. Reading it is itself audited by the server.
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { api, unwrap } from "@/lib/api/client";
import type { components } from "@/lib/api/schema";

export type AccessEvent = components["schemas"]["AccessEvent"];

export const AUDIT_PAGE_SIZE = 50;
export const OUTCOMES = ["ok", "denied", "not_found", "failed", "throttled", "error"] as const;

export interface AuditFilters {
  user: string;
  patient: string;
  action: string;
  outcome: string;
  since: string; // yyyy-mm-dd, the start of that day (local time)
  until: string; // yyyy-mm-dd, through the end of that day
  page: number;
}

export const emptyAuditFilters: AuditFilters = { user: "", patient: "", action: "", outcome: "", since: "", until: "", page: 1 };

/** A positive whole number typed in a filter, or undefined (left out of the query). */
export function idOrUndefined(value: string): number | undefined {
  const trimmed = value.trim();
  return /^[1-9]\d{0,17}$/.test(trimmed) ? Number(trimmed) : undefined;
}

/** A day's start, or the next day's start for `until` (the API's until is exclusive). */
export function dayBoundary(day: string, end: boolean): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const date = new Date(`${day}T00:00:00`);
  if (Number.isNaN(date.getTime())) return undefined;
  if (end) date.setDate(date.getDate() + 1);
  return date.toISOString();
}

export function auditQuery(filters: AuditFilters) {
  return {
    user: idOrUndefined(filters.user),
    patient: idOrUndefined(filters.patient),
    action: filters.action.trim() || undefined,
    outcome: filters.outcome || undefined,
    since: dayBoundary(filters.since, false),
    until: dayBoundary(filters.until, true),
    page: filters.page,
    page_size: AUDIT_PAGE_SIZE,
  };
}

export function useAuditEvents(filters: AuditFilters) {
  return useQuery({
    queryKey: ["admin", "audit", filters] as const,
    queryFn: () => unwrap(api.GET("/api/v1/audit/events/", { params: { query: auditQuery(filters) } })),
    placeholderData: keepPreviousData,
  });
}
