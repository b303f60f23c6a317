// The CT's 3D surfaces: mesh.json is a Plotly figure (marching-cubes meshes per structure), drawn
// by the lazily loaded plotly wrapper. This module itself is loaded only when the viewer opens.
import { Stack, Text } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";
import { PlotlyFigure, type PlotlyFigureSpec } from "@/lib/plotly/PlotlyFigure";

import { useArtifactJson } from "../api/artifacts";

export default function MeshViewer({ url }: { url: string }) {
  const { t } = useTranslation();
  const figure = useArtifactJson<PlotlyFigureSpec>(url, true);
  const [renderError, setRenderError] = useState<unknown>(null);
  if (figure.isPending) return <Loading />;
  if (figure.error) return <ErrorAlert error={figure.error} />;
  return (
    <Stack gap="xs" data-testid="mesh-viewer">
      <ErrorAlert error={renderError} title={t("ct.meshFailed")} />
      <PlotlyFigure figure={figure.data} title={t("ct.meshTitle")} height={480} onError={setRenderError} />
      <Text size="xs" c="dimmed">
        {t("ct.meshHint")}
      </Text>
    </Stack>
  );
}
