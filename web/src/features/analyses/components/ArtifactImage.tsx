import { Skeleton, Stack, Text } from "@mantine/core";

import { ErrorAlert } from "@/components/ErrorAlert";

import { useArtifactBlob, useObjectUrl } from "../api/artifacts";
import type { Artifact } from "../api/analyses";

/** A PNG the analysis produced, shown inline (fetched with the token, shown from a blob URL). */
export function ArtifactImage({ artifact, caption }: { artifact: Artifact; caption: string }) {
  const blob = useArtifactBlob(artifact.url);
  const src = useObjectUrl(blob.data);
  return (
    <Stack gap={4} component="figure" m={0}>
      <ErrorAlert error={blob.error} />
      {src ? (
        // Full size in a new tab: on a phone the figure is scaled down to the screen.
        <a href={src} target="_blank" rel="noopener noreferrer">
          <img src={src} alt={caption} className="cdss-artifact-image" data-artifact={artifact.name} />
        </a>
      ) : blob.isPending ? (
        <Skeleton height={240} />
      ) : null}
      <Text component="figcaption" size="xs" c="dimmed">
        {caption}
      </Text>
    </Stack>
  );
}
