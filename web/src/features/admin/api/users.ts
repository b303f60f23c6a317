// The users administrators manage (/api/v1/users/): list and search, create, change role or
// active state. Deactivating a user ends their tokens at once (the server's rule).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "@/lib/api/client";
import type { components } from "@/lib/api/schema";

export type ManagedUser = components["schemas"]["ManagedUser"];
export type UserCreate = components["schemas"]["UserCreateInputRequest"];
export type UserUpdate = components["schemas"]["PatchedUserUpdateInputRequest"];
export type Role = components["schemas"]["UserOutputRoleEnum"];

export const ROLES: readonly Role[] = ["clinician", "ml_engineer", "admin"];
export const USERS_PAGE_SIZE = 20;

export interface UserFilters {
  search: string;
  role: Role | "";
  active: "all" | "active" | "inactive";
  page: number;
}

export const userKeys = {
  all: ["admin", "users"] as const,
  list: (filters: UserFilters) => ["admin", "users", "list", filters] as const,
};

export function useUsers(filters: UserFilters) {
  return useQuery({
    queryKey: userKeys.list(filters),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/users/", {
          params: {
            query: {
              search: filters.search || undefined,
              role: filters.role || undefined,
              is_active: filters.active === "all" ? undefined : filters.active === "active",
              page: filters.page,
              page_size: USERS_PAGE_SIZE,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
}

export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: UserCreate) => unwrap(api.POST("/api/v1/users/", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useUpdateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: number; body: UserUpdate }) =>
      unwrap(api.PATCH("/api/v1/users/{user_id}/", { params: { path: { user_id: String(id) } }, body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: userKeys.all }),
  });
}
