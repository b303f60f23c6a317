import { Alert, Code, Stack } from "@mantine/core";
import { useTranslation } from "react-i18next";

import type { components } from "@/lib/api/schema";

import type { AnalysisResult, Artifact } from "../api/analyses";
import { CtResult } from "./CtResult";
import { OmicsResult } from "./OmicsResult";
import { type SequenceBatchResult, SequenceResult } from "./SequenceResult";

/** The result of a completed analysis, drawn by its kind. */
export function ResultView({ kind, result, artifacts }: { kind: string; result: AnalysisResult; artifacts: Artifact[] }) {
  const { t } = useTranslation();
  switch (kind) {
    case "sequence_batch":
      return <SequenceResult result={result as unknown as SequenceBatchResult} artifacts={artifacts} />;
    case "omics_rosmap":
      return <OmicsResult result={result as components["schemas"]["RosmapResult"]} />;
    case "omics_paad_survival":
      return <OmicsResult result={result as components["schemas"]["PaadResult"]} />;
    case "ct":
      return <CtResult result={result as components["schemas"]["CtResult"]} artifacts={artifacts} />;
    default:
      return (
        <Stack gap="sm">
          <Alert color="gray" variant="light">
            {t("analysis.noViewer")}
          </Alert>
          <Code block style={{ maxHeight: 400, overflow: "auto" }}>
            {JSON.stringify(result, null, 2)}
          </Code>
        </Stack>
      );
  }
}
