// The CT viewer: Niivue draws the analysed volume (volume.nii.gz, on the labels' grid) with the
// analysis's segmentation.nii.gz in its drawing layer. The drawing layer, not a label overlay:
// Niivue's label-colour overlay tints the whole background under software WebGL (headless
// Chromium, machines without a GPU). The files are behind the API's token, so they are fetched as
// blobs and handed to Niivue as buffers. This module (and Niivue with it) loads only when a CT
// result is shown.
import { Alert, Group, SegmentedControl, SimpleGrid, Slider, Stack, Text } from "@mantine/core";
import { Niivue, NVImage, SLICE_TYPE } from "@niivue/niivue";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";
import { Loading } from "@/components/Loading";

import { useArtifactBlob } from "../api/artifacts";
import { CT_WINDOWS, type CtLabelColour, type CtWindow, drawColormap } from "./ctColours";
import "./viewers.css";

const VIEWS = {
  axial: SLICE_TYPE.AXIAL,
  coronal: SLICE_TYPE.CORONAL,
  sagittal: SLICE_TYPE.SAGITTAL,
  multiplanar: SLICE_TYPE.MULTIPLANAR,
} as const;
type View = keyof typeof VIEWS;

type Phase = "loading" | "ready" | "no-webgl" | "failed" | "labels-misaligned";

function hasWebGl2(): boolean {
  try {
    return Boolean(document.createElement("canvas").getContext("webgl2"));
  } catch {
    return false;
  }
}

interface Props {
  volumeUrl: string;
  segmentationUrl: string;
  labels: CtLabelColour[];
}

export default function CtViewer({ volumeUrl, segmentationUrl, labels }: Props) {
  const { t } = useTranslation();
  const volume = useArtifactBlob(volumeUrl);
  const segmentation = useArtifactBlob(segmentationUrl);
  const canvas = useRef<HTMLCanvasElement>(null);
  const viewer = useRef<Niivue | null>(null);
  const [phase, setPhase] = useState<Phase>("loading");
  const [drawError, setDrawError] = useState<unknown>(null);
  const [view, setView] = useState<View>("multiplanar");
  const [ctWindow, setCtWindow] = useState<CtWindow>("softTissue");
  const [opacity, setOpacity] = useState(0.5);
  // The controls' values when the volume is loaded; later changes go through their own effects.
  const initial = useRef({ view, ctWindow, opacity });
  initial.current = { view, ctWindow, opacity };

  useEffect(() => {
    const element = canvas.current;
    if (!element || !volume.data || !segmentation.data) return undefined;
    if (!hasWebGl2()) {
      setPhase("no-webgl");
      return undefined;
    }
    let cancelled = false;
    const nv = new Niivue({
      backColor: [0, 0, 0, 1],
      // As radiologists read CT (and as slices.png is drawn): the patient's right on the left.
      isRadiologicalConvention: true,
      crosshairWidth: 1,
      crosshairColor: [1, 0.25, 0.25, 0.7],
      isResizeCanvas: true,
      dragAndDropEnabled: false,
      logLevel: "error",
      loadingText: "",
    });
    setPhase("loading");
    setDrawError(null);
    const volumeBlob = volume.data;
    const segmentationBlob = segmentation.data;
    (async () => {
      await nv.attachToCanvas(element);
      // A fresh buffer per load: Niivue may keep or detach what it is given.
      const [volumeBuffer, labelsBuffer] = await Promise.all([volumeBlob.arrayBuffer(), segmentationBlob.arrayBuffer()]);
      if (cancelled) return;
      const { view: startView, ctWindow: startWindow, opacity: startOpacity } = initial.current;
      const back = await NVImage.loadFromUrl({
        url: "volume.nii.gz",
        buffer: volumeBuffer,
        colormap: "gray",
        cal_min: CT_WINDOWS[startWindow].min,
        cal_max: CT_WINDOWS[startWindow].max,
        trustCalMinMax: true,
      });
      if (cancelled) return;
      nv.addVolume(back);
      const drawing = await NVImage.loadFromUrl({ url: "segmentation.nii.gz", buffer: labelsBuffer });
      if (cancelled) return;
      // Niivue's makeDrawLut takes a colour-map object as well as a built-in name (its typings
      // say only string): our label ids and colours, not a stock palette.
      nv.setDrawColormap(drawColormap(labels) as unknown as string);
      const aligned = nv.loadDrawing(drawing);
      nv.setDrawingEnabled(false); // a viewer: dragging moves the crosshair, never paints
      nv.setDrawOpacity(startOpacity);
      nv.setSliceType(VIEWS[startView]);
      viewer.current = nv;
      setPhase(aligned ? "ready" : "labels-misaligned");
    })().catch((error: unknown) => {
      if (cancelled) return;
      setDrawError(error);
      setPhase("failed");
    });
    return () => {
      cancelled = true;
      viewer.current = null;
      // Listeners and observers go; the WebGL context stays with the canvas (losing it here would
      // leave a re-run of this effect, such as StrictMode's, a dead canvas).
      nv.cleanup();
    };
  }, [volume.data, segmentation.data, labels]);

  useEffect(() => {
    viewer.current?.setSliceType(VIEWS[view]);
  }, [view]);

  useEffect(() => {
    viewer.current?.setDrawOpacity(opacity);
  }, [opacity]);

  useEffect(() => {
    const nv = viewer.current;
    const back = nv?.volumes[0];
    if (!nv || !back) return;
    back.cal_min = CT_WINDOWS[ctWindow].min;
    back.cal_max = CT_WINDOWS[ctWindow].max;
    nv.updateGLVolume();
  }, [ctWindow]);

  const fetchError = volume.error ?? segmentation.error;
  if (fetchError) return <ErrorAlert error={fetchError} title={t("ct.viewer.loadFailed")} />;
  if (phase === "no-webgl") {
    return (
      <Alert color="orange" variant="light" data-testid="ct-viewer-unavailable">
        {t("ct.viewer.noWebgl")}
      </Alert>
    );
  }

  const busy = volume.isPending || segmentation.isPending || phase === "loading";
  return (
    <Stack gap="sm">
      <SegmentedControl
        size="xs"
        fullWidth
        value={view}
        onChange={(value) => setView(value as View)}
        aria-label={t("ct.viewer.view")}
        data={(Object.keys(VIEWS) as View[]).map((key) => ({ value: key, label: t(`ct.viewer.views.${key}`) }))}
      />
      <SegmentedControl
        size="xs"
        fullWidth
        value={ctWindow}
        onChange={(value) => setCtWindow(value as CtWindow)}
        aria-label={t("ct.viewer.window")}
        data={(Object.keys(CT_WINDOWS) as CtWindow[]).map((key) => ({ value: key, label: t(`ct.viewer.windows.${key}`) }))}
      />
      {phase === "failed" ? <ErrorAlert error={drawError} title={t("ct.viewer.drawFailed")} /> : null}
      {phase === "labels-misaligned" ? (
        <Alert color="orange" variant="light">
          {t("ct.viewer.labelsMisaligned")}
        </Alert>
      ) : null}
      <div className="cdss-ct-viewer" data-testid="ct-viewer" data-state={phase}>
        <canvas ref={canvas} aria-label={t("ct.viewer.canvas")} role="img" />
        {busy ? (
          <div className="cdss-viewer-loading">
            <Loading />
          </div>
        ) : null}
      </div>
      <Stack gap={2}>
        <Text size="sm" id="ct-opacity-label">
          {t("ct.viewer.opacity")}
        </Text>
        <Slider
          min={0}
          max={1}
          step={0.05}
          value={opacity}
          onChange={setOpacity}
          label={(value) => `${Math.round(value * 100)}%`}
          thumbProps={{ "aria-labelledby": "ct-opacity-label" }}
          data-testid="ct-opacity"
        />
      </Stack>
      <SimpleGrid cols={{ base: 2, sm: 3 }} spacing={6} data-testid="ct-legend">
        {labels.map((label) => (
          <Group key={label.id} gap={6} wrap="nowrap">
            <span className="cdss-swatch" style={{ backgroundColor: label.colour }} aria-hidden />
            <Text size="xs">{t(`ct.structures.${label.name}`, { defaultValue: label.name })}</Text>
          </Group>
        ))}
      </SimpleGrid>
      <Text size="xs" c="dimmed">
        {t("ct.viewer.hint")}
      </Text>
    </Stack>
  );
}
