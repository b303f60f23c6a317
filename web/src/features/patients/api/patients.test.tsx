import { act, waitFor } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";

import { ApiError } from "@/lib/api/errors";
import { setTokens } from "@/lib/auth/tokens";
import { renderHookWithProviders } from "@/test/render";
import { server } from "@/test/server";

import { useCreatePatient, usePatients, useUploadPatientFile } from "./patients";

const patient = {
  id: 1,
  mrn: "MRN-0001",
  name: "Hong Gildong",
  birth_date: "1980-01-02",
  sex: "male",
  notes: "",
  care_team: [2],
  created_at: "2026-11-27T10:00:00Z",
  updated_at: "2026-11-27T10:00:00Z",
};

describe("usePatients", () => {
  it("searches and pages through the API", async () => {
    setTokens({ access: "A", refresh: "R" });
    let query: URLSearchParams | null = null;
    server.use(
      http.get("*/api/v1/patients/", ({ request }) => {
        query = new URL(request.url).searchParams;
        return HttpResponse.json({ count: 21, next: null, previous: null, results: [patient] });
      }),
    );
    const { result } = renderHookWithProviders(() => usePatients("hong", 2));
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(result.current.data?.results[0].name).toBe("Hong Gildong");
    expect(query!.get("search")).toBe("hong");
    expect(query!.get("page")).toBe("2");
    expect(query!.get("page_size")).toBe("20");
  });

  it("leaves an empty search out of the query", async () => {
    let query: URLSearchParams | null = null;
    server.use(
      http.get("*/api/v1/patients/", ({ request }) => {
        query = new URL(request.url).searchParams;
        return HttpResponse.json({ count: 0, results: [] });
      }),
    );
    const { result } = renderHookWithProviders(() => usePatients("", 1));
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(query!.has("search")).toBe(false);
  });
});

describe("useCreatePatient", () => {
  it("surfaces the API's message and field details on a 400", async () => {
    server.use(
      http.post("*/api/v1/patients/", () =>
        HttpResponse.json(
          { error: "Invalid input: mrn: A patient with this MRN exists.", detail: { mrn: ["A patient with this MRN exists."] } },
          { status: 400 },
        ),
      ),
    );
    const { result } = renderHookWithProviders(() => useCreatePatient());
    await act(async () => {
      await result.current.mutateAsync({ mrn: "MRN-0001", name: "Hong" }).catch(() => undefined);
    });
    const error = result.current.error as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toBe("Invalid input: mrn: A patient with this MRN exists.");
    expect(error.detail.mrn).toEqual(["A patient with this MRN exists."]);
  });

  it("sends the patient and refreshes the lists", async () => {
    let body: unknown = null;
    server.use(
      http.post("*/api/v1/patients/", async ({ request }) => {
        body = await request.json();
        return HttpResponse.json(patient, { status: 201 });
      }),
    );
    const { result, client } = renderHookWithProviders(() => useCreatePatient());
    client.setQueryData(["patients", "list", { search: "", page: 1 }], { count: 0, results: [] });
    await act(async () => {
      await result.current.mutateAsync({ mrn: "MRN-0001", name: "Hong Gildong", sex: "male" });
    });
    expect(body).toEqual({ mrn: "MRN-0001", name: "Hong Gildong", sex: "male" });
    expect(client.getQueryState(["patients", "list", { search: "", page: 1 }])?.isInvalidated).toBe(true);
  });
});

describe("useUploadPatientFile", () => {
  it("posts the file and its role as multipart with the token", async () => {
    setTokens({ access: "A", refresh: "R" });
    let role: FormDataEntryValue | null = null;
    let content: string | undefined;
    let hasFile = false;
    let auth: string | null = null;
    server.use(
      http.post("*/api/v1/patients/1/files/", async ({ request }) => {
        auth = request.headers.get("Authorization");
        const form = await request.formData();
        role = form.get("role");
        // jsdom's XMLHttpRequest hands msw a mangled file part (no name, other bytes): what
        // can be checked here is that it is a multipart body with both fields.
        content = request.headers.get("Content-Type") ?? undefined;
        hasFile = form.has("file");
        return HttpResponse.json({ id: 9, name: "notes.txt", role: "document" }, { status: 201 });
      }),
    );
    const { result } = renderHookWithProviders(() => useUploadPatientFile(1));
    const progress: number[] = [];
    let stored: { id: number } | undefined;
    await act(async () => {
      stored = await result.current.mutateAsync({
        role: "document",
        file: new File(["penicillin allergy"], "notes.txt", { type: "text/plain" }),
        onProgress: (p) => progress.push(p),
      });
    });
    expect(stored?.id).toBe(9);
    expect(role).toBe("document");
    expect(content).toMatch(/^multipart\/form-data; boundary=/);
    expect(hasFile).toBe(true);
    expect(auth).toBe("Bearer A");
    expect(progress.at(-1)).toBe(1);
  });

  it("reports the API's refusal of a bad file", async () => {
    server.use(
      http.post("*/api/v1/patients/1/files/", () =>
        HttpResponse.json(
          { error: "file: a ct_volume must be a NIfTI image or a zip of one DICOM series; this file is a PDF", detail: {} },
          { status: 400 },
        ),
      ),
    );
    const { result } = renderHookWithProviders(() => useUploadPatientFile(1));
    await act(async () => {
      await result.current
        .mutateAsync({ role: "ct_volume", file: new File(["%PDF-1.4"], "x.pdf"), onProgress: () => {} })
        .catch(() => undefined);
    });
    expect((result.current.error as ApiError).message).toMatch(/this file is a PDF/);
  });
});
