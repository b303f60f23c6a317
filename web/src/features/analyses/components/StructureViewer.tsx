// The 3D protein structure of a sequence result: 3Dmol draws the staged PDB file the analysis
// stored as an artifact (structure-<PDB id>.pdb; fetched with the token) as a cartoon, coloured
// by chain or along the chain (N to C terminus). This module, and 3Dmol with it, loads only when
// a structure is opened.
import { Alert, Group, SegmentedControl, Stack, Text } from "@mantine/core";
import * as $3Dmol from "3dmol";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";

import { useArtifactBlob } from "../api/artifacts";
import "./viewers.css";

export type StructureColouring = "chain" | "spectrum";

/** 3Dmol's cartoon style for a colouring. */
export function cartoonStyle(colouring: StructureColouring): Record<string, unknown> {
  return colouring === "chain" ? { cartoon: { colorscheme: "chain" } } : { cartoon: { color: "spectrum" } };
}

function hasWebGl(): boolean {
  try {
    const canvas = document.createElement("canvas");
    return Boolean(canvas.getContext("webgl2") ?? canvas.getContext("webgl"));
  } catch {
    return false;
  }
}

type Phase = "loading" | "ready" | "no-webgl" | "failed";

export default function StructureViewer({ url, pdbId }: { url: string; pdbId: string }) {
  const { t } = useTranslation();
  const file = useArtifactBlob(url);
  const box = useRef<HTMLDivElement>(null);
  const viewer = useRef<$3Dmol.GLViewer | null>(null);
  const [phase, setPhase] = useState<Phase>("loading");
  const [error, setError] = useState<unknown>(null);
  const [colouring, setColouring] = useState<StructureColouring>("chain");
  const initialColouring = useRef(colouring);
  initialColouring.current = colouring;

  useEffect(() => {
    const element = box.current;
    if (!element || !file.data) return undefined;
    if (!hasWebGl()) {
      setPhase("no-webgl");
      return undefined;
    }
    let cancelled = false;
    let resize: ResizeObserver | null = null;
    setPhase("loading");
    file.data
      .text()
      .then((text) => {
        if (cancelled) return;
        const glViewer = $3Dmol.createViewer(element, { backgroundColor: "white" });
        const model = glViewer.addModel(text, "pdb");
        if (model.selectedAtoms({}).length === 0) throw new Error(t("sequence.structureViewer.empty", { id: pdbId }));
        glViewer.setStyle({}, cartoonStyle(initialColouring.current));
        glViewer.zoomTo();
        glViewer.render();
        viewer.current = glViewer;
        // The canvas follows its box (a phone turned, a sidebar opened).
        resize = new ResizeObserver(() => glViewer.resize());
        resize.observe(element);
        setPhase("ready");
      })
      .catch((reason: unknown) => {
        if (cancelled) return;
        setError(reason);
        setPhase("failed");
      });
    return () => {
      cancelled = true;
      resize?.disconnect();
      viewer.current?.clear();
      viewer.current = null;
      element.replaceChildren();
    };
  }, [file.data, pdbId, t]);

  useEffect(() => {
    const glViewer = viewer.current;
    if (!glViewer) return;
    glViewer.setStyle({}, cartoonStyle(colouring));
    glViewer.render();
  }, [colouring]);

  if (file.error) return <ErrorAlert error={file.error} title={t("sequence.structureViewer.loadFailed")} />;
  if (phase === "no-webgl") {
    return (
      <Alert color="orange" variant="light" data-testid="structure-viewer-unavailable">
        {t("sequence.structureViewer.noWebgl")}
      </Alert>
    );
  }
  return (
    <Stack gap="xs">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Text size="sm" fw={500}>
          {t("sequence.structureViewer.title", { id: pdbId })}
        </Text>
        <SegmentedControl
          size="xs"
          value={colouring}
          onChange={(value) => setColouring(value as StructureColouring)}
          aria-label={t("sequence.structureViewer.colouring")}
          data={[
            { value: "chain", label: t("sequence.structureViewer.byChain") },
            { value: "spectrum", label: t("sequence.structureViewer.spectrum") },
          ]}
        />
      </Group>
      {phase === "failed" ? <ErrorAlert error={error} title={t("sequence.structureViewer.drawFailed")} /> : null}
      <div
        className="cdss-structure-viewer"
        data-testid="structure-viewer"
        data-state={phase}
        role="img"
        aria-label={t("sequence.structureViewer.title", { id: pdbId })}
      >
        {/* 3Dmol owns this box's children; React draws only beside it. */}
        <div ref={box} className="cdss-structure-canvas" />
        {phase === "loading" ? (
          <div className="cdss-viewer-loading">
            <Loading />
          </div>
        ) : null}
      </div>
      <Text size="xs" c="dimmed">
        {t("sequence.structureViewer.hint")}
      </Text>
    </Stack>
  );
}
