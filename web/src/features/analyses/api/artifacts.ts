import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";

import { fetchBlob } from "@/lib/api/download";

/** An artifact's bytes (fetched with the session's token), cached like any other answer. */
export function useArtifactBlob(url: string | undefined) {
  return useQuery({
    queryKey: ["artifact", url],
    queryFn: () => fetchBlob(url!),
    enabled: Boolean(url),
    staleTime: Infinity,
  });
}

/** An object URL for a blob, revoked when the blob changes or the component goes. */
export function useObjectUrl(blob: Blob | undefined): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!blob) return undefined;
    const href = URL.createObjectURL(blob);
    setUrl(href);
    return () => {
      URL.revokeObjectURL(href);
      setUrl(undefined);
    };
  }, [blob]);
  return url;
}

/** An artifact parsed as JSON (mesh.json, survival.json). */
export function useArtifactJson<T>(url: string | undefined, enabled: boolean) {
  return useQuery({
    queryKey: ["artifact-json", url],
    queryFn: async () => JSON.parse(await (await fetchBlob(url!)).text()) as T,
    enabled: Boolean(url) && enabled,
    staleTime: Infinity,
  });
}
