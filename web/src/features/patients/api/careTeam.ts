// The clinician directory (/api/v1/users/directory/): the active clinicians a care team can name,
// with id, username, display name and role only. Clinicians and administrators may read it.
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { api, unwrap } from "@/lib/api/client";
import type { components } from "@/lib/api/schema";

export type Clinician = components["schemas"]["DirectoryEntry"];

// One page covers a ward's clinicians; a search narrows a larger hospital's.
export const DIRECTORY_PAGE_SIZE = 200;

export function useClinicianDirectory(search: string, enabled = true) {
  return useQuery({
    queryKey: ["users", "directory", search] as const,
    queryFn: () =>
      unwrap(api.GET("/api/v1/users/directory/", { params: { query: { search: search || undefined, page_size: DIRECTORY_PAGE_SIZE } } })),
    placeholderData: keepPreviousData,
    enabled,
    staleTime: 60_000,
  });
}

/** How a clinician is named in the interface: "Display Name (username)", or the username alone. */
export function clinicianLabel(clinician: Clinician): string {
  return clinician.display_name && clinician.display_name !== clinician.username
    ? `${clinician.display_name} (${clinician.username})`
    : clinician.username;
}
