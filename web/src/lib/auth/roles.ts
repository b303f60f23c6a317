// What each role may do in the interface, as the API decides it (cdss/accounts/models.py Role):
// administrators manage users and read the audit trail; ML engineers and administrators retrain
// models; clinicians and administrators edit care teams. The API refuses the rest with 403.
import type { CurrentUser } from "./session";

export function isAdmin(user: CurrentUser | undefined): boolean {
  return user?.role === "admin";
}

export function isModelManager(user: CurrentUser | undefined): boolean {
  return user?.role === "ml_engineer" || user?.role === "admin";
}

export function canEditCareTeams(user: CurrentUser | undefined): boolean {
  return user?.role === "clinician" || user?.role === "admin";
}
