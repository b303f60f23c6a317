import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router";

export function testQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
}

function wrapper(client: QueryClient) {
  return function Wrapper({ children }: { children: ReactNode }) {
    return (
      <MantineProvider>
        <QueryClientProvider client={client}>
          <MemoryRouter>{children}</MemoryRouter>
        </QueryClientProvider>
      </MantineProvider>
    );
  };
}

export function renderWithProviders(ui: ReactNode, client = testQueryClient()) {
  return { client, ...render(ui, { wrapper: wrapper(client) }) };
}

export function renderHookWithProviders<T>(hook: () => T, client = testQueryClient()) {
  return { client, ...renderHook(hook, { wrapper: wrapper(client) }) };
}
