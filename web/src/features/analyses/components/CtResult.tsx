import { Button, List, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { lazy, type ReactNode, Suspense, useState } from "react";
import { useTranslation } from "react-i18next";

import { Loading } from "@/components/Loading";
import { ResponsiveTable } from "@/components/ResponsiveTable";
import type { components } from "@/lib/api/schema";
import { formatNumber, formatProbability } from "@/lib/format";

import type { Artifact } from "../api/analyses";
import { ArtifactImage } from "./ArtifactImage";

// The 3D viewer pulls plotly.js (megabytes): it loads only when a person opens it.
const MeshViewer = lazy(() => import("./MeshViewer"));
// Niivue is its own chunk too, fetched when a CT result is shown (never on the first load).
const CtViewer = lazy(() => import("./CtViewer"));

type Ct = components["schemas"]["CtResult"];

function Measurements({ result }: { result: Ct }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  return (
    <ResponsiveTable
      testId="measurements-table"
      striped
      rows={result.structures}
      rowKey={(row) => `${row.source}:${row.name}`}
      columns={[
        { key: "name", header: t("ct.structure"), cell: (row) => t(`ct.structures.${row.name}`, { defaultValue: row.name }) },
        { key: "volume", header: t("ct.volumeMl"), cell: (row) => formatNumber(row.volume_ml, lang, 1) },
        { key: "hu", header: t("ct.huMean"), cell: (row) => formatNumber(row.hu_mean, lang, 1) },
        { key: "sd", header: t("ct.huSd"), cell: (row) => formatNumber(row.hu_std, lang, 1) },
        {
          key: "source",
          header: t("ct.source"),
          cell: (row) => (
            <Text size="xs" c="dimmed" component="span">
              {row.source}
            </Text>
          ),
        },
      ]}
    />
  );
}

function BodyComposition({ result }: { result: Ct }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const body = result.body_composition;
  const l3 = body.l3;
  return (
    <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
      <Text size="sm">
        {t("ct.bodyVolume")}: <b>{formatNumber(body.body_volume_ml, lang, 0)} mL</b>
      </Text>
      <Text size="sm">
        {t("ct.subcutaneousFat")}: <b>{formatNumber(body.subcutaneous_fat_ml, lang, 0)} mL</b>
      </Text>
      <Text size="sm">
        {t("ct.visceralFat")}: <b>{formatNumber(body.visceral_fat_ml, lang, 0)} mL</b>
      </Text>
      <Text size="sm">
        {t("ct.l3")}:{" "}
        <b>
          {l3.slice === null
            ? t("ct.l3NotFound")
            : t("ct.l3Areas", {
                slice: l3.slice,
                sat: formatNumber(l3.subcutaneous_fat_cm2, lang, 1),
                vat: formatNumber(l3.visceral_fat_cm2, lang, 1),
              })}
        </b>
      </Text>
    </SimpleGrid>
  );
}

function Adrenal({ result }: { result: Ct }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  if (result.adrenal.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        {t("ct.adrenalNone")}
      </Text>
    );
  }
  return (
    <ResponsiveTable
      testId="adrenal-table"
      rows={result.adrenal}
      rowKey={(finding) => finding.structure}
      columns={[
        {
          key: "structure",
          header: t("ct.structure"),
          cell: (finding) => t(`ct.structures.${finding.structure}`, { defaultValue: finding.structure }),
        },
        {
          key: "label",
          header: t("ct.adrenalLabel"),
          cell: (finding) => t(`ct.adrenalLabels.${finding.label}`, { defaultValue: finding.label }),
        },
        { key: "p", header: t("ct.probability"), cell: (finding) => formatProbability(finding.probability, lang) },
        { key: "volume", header: t("ct.volumeMl"), cell: (finding) => formatNumber(finding.gland_volume_ml, lang, 2) },
      ]}
    />
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md">
      <Stack gap="sm">
        <Title order={3} size="h4">
          {title}
        </Title>
        {children}
      </Stack>
    </Paper>
  );
}

export function CtResult({ result, artifacts }: { result: Ct; artifacts: Artifact[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  const [showMesh, setShowMesh] = useState(false);
  const slices = artifacts.find((artifact) => artifact.name === "slices.png");
  const volume = artifacts.find((artifact) => artifact.name === "volume.nii.gz");
  const segmentation = artifacts.find((artifact) => artifact.name === "segmentation.nii.gz");
  const mesh = artifacts.find((artifact) => artifact.name === "mesh.json");
  const liver = result.liver;
  return (
    <Stack gap="md">
      <Section title={t("ct.findings")}>
        <Text size="xs" c="dimmed">
          {t("ct.findingsNote")}
        </Text>
        <List spacing="xs" size="sm" data-testid="ct-findings">
          {result.findings.map((finding) => (
            <List.Item key={finding.code}>
              {finding.text}{" "}
              <Text span size="xs" c="dimmed">
                ({finding.source})
              </Text>
            </List.Item>
          ))}
        </List>
      </Section>
      <Section title={t("ct.viewer.title")}>
        {volume && segmentation ? (
          <Suspense fallback={<Loading />}>
            <CtViewer volumeUrl={volume.url} segmentationUrl={segmentation.url} labels={result.labels} />
          </Suspense>
        ) : (
          <Text size="sm" c="dimmed">
            {t("ct.viewer.noVolume")}
          </Text>
        )}
      </Section>
      {slices ? (
        <Section title={t("ct.slices")}>
          <ArtifactImage artifact={slices} caption={t("ct.slicesCaption")} />
        </Section>
      ) : null}
      {mesh ? (
        <Section title={t("ct.meshTitle")}>
          {showMesh ? (
            <Suspense fallback={<Loading />}>
              <MeshViewer url={mesh.url} />
            </Suspense>
          ) : (
            <Button variant="light" onClick={() => setShowMesh(true)} data-testid="open-mesh">
              {t("ct.openMesh")}
            </Button>
          )}
        </Section>
      ) : null}
      <Section title={t("ct.measurements")}>
        <Measurements result={result} />
      </Section>
      <Section title={t("ct.bodyComposition")}>
        <BodyComposition result={result} />
        <Text size="xs" c="dimmed">
          {result.body_composition.muscle}
        </Text>
      </Section>
      <Section title={t("ct.liver")}>
        {liver.status === "segmented" ? (
          <Stack gap={4}>
            <Text size="sm">
              {t("ct.liverSummary", {
                volume: formatNumber(liver.volume_ml, lang, 0),
                hu: formatNumber(liver.hu_mean, lang, 0),
                lesions: liver.lesion_count ?? 0,
              })}
            </Text>
            {liver.lesion_caution ? (
              <Text size="xs" c="dimmed">
                {liver.lesion_caution}
              </Text>
            ) : null}
          </Stack>
        ) : (
          <Text size="sm" c="dimmed">
            {t("ct.liverNotSegmented", { reason: liver.reason ?? "" })}
          </Text>
        )}
      </Section>
      <Section title={t("ct.adrenal")}>
        <Adrenal result={result} />
      </Section>
      {result.notes.length > 0 ? (
        <Section title={t("ct.notes")}>
          <List size="sm">
            {result.notes.map((note) => (
              <List.Item key={note}>{note}</List.Item>
            ))}
          </List>
        </Section>
      ) : null}
    </Stack>
  );
}
