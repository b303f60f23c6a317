import "@mantine/core/styles.css";
import "./styles.css";

import { createTheme, MantineProvider } from "@mantine/core";
import { QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { RouterProvider } from "react-router";

import { getAccessToken, getRefreshToken, subscribe } from "@/lib/auth/tokens";
import { cspNonce } from "@/lib/csp";

import { contrastResolver } from "./contrast";
import { createQueryClient } from "./queryClient";
import { createRouter } from "./router";

const theme = createTheme({
  primaryColor: "blue",
  // Buttons, links and focus in blue.8: white on Mantine's default blue.6 is 3.6:1 (WCAG AA 4.5:1).
  primaryShade: 8,
  fontFamily:
    'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans KR", "Noto Sans CJK KR", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif',
});

export function App() {
  const [queryClient] = useState(createQueryClient);
  const [router] = useState(createRouter);

  // Whenever the session ends (logout, a refused refresh token), nothing cached for that user
  // may be shown to whoever signs in next in this tab.
  useEffect(
    () =>
      subscribe(() => {
        if (!getAccessToken() && !getRefreshToken()) queryClient.clear();
      }),
    [queryClient],
  );
  return (
    <MantineProvider theme={theme} cssVariablesResolver={contrastResolver} getStyleNonce={() => cspNonce() ?? ""}>
      <QueryClientProvider client={queryClient}>
        <RouterProvider router={router} />
      </QueryClientProvider>
    </MantineProvider>
  );
}
