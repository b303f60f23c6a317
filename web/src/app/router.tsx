import { createBrowserRouter, Navigate } from "react-router";

import { AppLayout } from "@/components/AppLayout";

import { NotFoundPage } from "./NotFoundPage";
import { RequireAuth } from "./RequireAuth";
import { RouteError } from "./RouteError";

// Every page is its own chunk; the login page and the frame are all a first visit loads.
export const routes = [
  {
    path: "/login",
    errorElement: <RouteError />,
    lazy: () => import("@/features/auth/routes/LoginPage").then((m) => ({ Component: m.LoginPage })),
  },
  {
    path: "/",
    errorElement: <RouteError />,
    element: (
      <RequireAuth>
        <AppLayout />
      </RequireAuth>
    ),
    children: [
      { index: true, element: <Navigate to="/patients" replace /> },
      {
        path: "patients",
        lazy: () => import("@/features/patients/routes/PatientsListPage").then((m) => ({ Component: m.PatientsListPage })),
      },
      {
        path: "patients/new",
        lazy: () => import("@/features/patients/routes/PatientCreatePage").then((m) => ({ Component: m.PatientCreatePage })),
      },
      {
        path: "patients/:patientId",
        lazy: () => import("@/features/patients/routes/PatientPage").then((m) => ({ Component: m.PatientPage })),
      },
      {
        path: "patients/:patientId/edit",
        lazy: () => import("@/features/patients/routes/PatientEditPage").then((m) => ({ Component: m.PatientEditPage })),
      },
      {
        path: "patients/:patientId/analyses/new",
        lazy: () => import("@/features/analyses/routes/NewAnalysisPage").then((m) => ({ Component: m.NewAnalysisPage })),
      },
      {
        path: "analyses/:analysisId",
        lazy: () => import("@/features/analyses/routes/AnalysisPage").then((m) => ({ Component: m.AnalysisPage })),
      },
      {
        path: "assistant",
        lazy: () => import("@/features/assistant/routes/AssistantPage").then((m) => ({ Component: m.AssistantPage })),
      },
      {
        path: "assistant/:sessionId",
        lazy: () => import("@/features/assistant/routes/ChatPage").then((m) => ({ Component: m.ChatPage })),
      },
      {
        path: "models",
        lazy: () => import("@/features/models/routes/ModelsPage").then((m) => ({ Component: m.ModelsPage })),
      },
      {
        path: "models/:name/:version/card",
        lazy: () => import("@/features/models/routes/ModelCardPage").then((m) => ({ Component: m.ModelCardPage })),
      },
      {
        path: "users",
        lazy: () => import("@/features/admin/routes/UsersPage").then((m) => ({ Component: m.UsersPage })),
      },
      {
        path: "audit",
        lazy: () => import("@/features/admin/routes/AuditPage").then((m) => ({ Component: m.AuditPage })),
      },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
];

export function createRouter() {
  return createBrowserRouter(routes);
}
