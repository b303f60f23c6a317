import { useMutation } from "@tanstack/react-query";

import { api, unwrap } from "@/lib/api/client";
import { setTokens } from "@/lib/auth/tokens";

export interface Credentials {
  username: string;
  password: string;
}

/** POST /api/v1/auth/token/: a token pair for the credentials (401 and 429 carry the API's message). */
export function useLogin() {
  return useMutation({
    mutationFn: async (credentials: Credentials) => {
      const pair = await unwrap(api.POST("/api/v1/auth/token/", { body: credentials }));
      setTokens(pair);
      return pair;
    },
  });
}
