import { Alert, Anchor, Badge, Button, Card, Group, Pagination, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { lazy, Suspense, useState } from "react";
import { useTranslation } from "react-i18next";

import { Loading } from "@/components/Loading";
import { ResponsiveTable } from "@/components/ResponsiveTable";
import { formatProbability } from "@/lib/format";

import type { Artifact } from "../api/analyses";
import { ProbabilityBar } from "./ProbabilityBar";

// 3Dmol is its own chunk, fetched when a structure is opened.
const StructureViewer = lazy(() => import("./StructureViewer"));

// One item of a sequence_batch result (the inference server's prediction; see
// inference/engines/sequence/schema.py): the API types it as an open object.
interface Structure {
  source: "pdb" | "alphafold" | null;
  id: string | null;
  url: string | null;
  /** Set when the model ships the file: the analysis then stores it as structure-<id>.pdb. */
  local_file?: string | null;
}
interface Reference {
  id: string;
  name: string;
  organism: string;
  identity: number;
  coverage: number;
  score: number;
  label: string;
  structure?: Structure;
}
interface UniprotHit {
  uniprot_id: string;
  protein_name: string;
  organism: string;
  preferred_3d: Structure | null;
}
export interface SequenceItem {
  ok: boolean;
  index: number;
  id?: unknown;
  error?: string;
  model_version?: string | null;
  translation?: { protein_sequence: string; info: { input_type: string; length: number; frame?: number } };
  prediction?: {
    task1: { is_pathogen: boolean; probability: number };
    task2: { protein_type: string; probability: number; best_guess?: string };
    task3: { top_predictions: [string, number][] };
  };
  task3_structure?: { protein_name: string; top1_probability: number; uniprot_hits: UniprotHit[] } | null;
  nearest_references?: Reference[];
  confidence?: "high" | "low" | "unknown" | null;
}
export interface SequenceBatchResult {
  count: number;
  ok_count: number;
  failed_count: number;
  model_name: string;
  model_version: string;
  results: SequenceItem[];
}

const PER_PAGE = 5;

function StructureLink({ structure }: { structure: Structure | null | undefined }) {
  const { t } = useTranslation();
  if (!structure?.url) return <>—</>;
  return (
    <Anchor href={structure.url} target="_blank" rel="noopener noreferrer" size="sm">
      {t(`sequence.structureSource.${structure.source ?? "pdb"}`)} {structure.id}
    </Anchor>
  );
}

function HitsTable({ references }: { references: Reference[] }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.resolvedLanguage ?? "en";
  if (references.length === 0) return <Text size="sm" c="dimmed">{t("sequence.noHits")}</Text>;
  return (
    <ResponsiveTable
      testId="hits-table"
      rows={references}
      rowKey={(ref) => `${ref.id}-${ref.score}`}
      columns={[
        { key: "id", header: t("sequence.hits.id"), cell: (ref) => ref.id },
        { key: "name", header: t("sequence.hits.name"), cell: (ref) => ref.name, primary: true },
        { key: "organism", header: t("sequence.hits.organism"), cell: (ref) => ref.organism },
        { key: "label", header: t("sequence.hits.label"), cell: (ref) => ref.label || "—" },
        { key: "identity", header: t("sequence.hits.identity"), cell: (ref) => formatProbability(ref.identity, lang) },
        { key: "coverage", header: t("sequence.hits.coverage"), cell: (ref) => formatProbability(ref.coverage, lang) },
        { key: "score", header: t("sequence.hits.score"), cell: (ref) => ref.score },
        { key: "structure", header: t("sequence.hits.structure"), cell: (ref) => <StructureLink structure={ref.structure} /> },
      ]}
    />
  );
}

/** The stored structure file of an item's predicted protein, if the analysis kept one. */
export function itemStructure(item: SequenceItem, artifacts: Artifact[]): { pdbId: string; artifact: Artifact; name: string } | null {
  for (const hit of item.task3_structure?.uniprot_hits ?? []) {
    const structure = hit.preferred_3d;
    if (structure?.source !== "pdb" || !structure.id) continue;
    const pdbId = structure.id.toUpperCase();
    const artifact = artifacts.find((a) => a.name === `structure-${pdbId}.pdb`);
    if (artifact) return { pdbId, artifact, name: hit.protein_name };
  }
  return null;
}

function StructureSection({ item, artifacts, open }: { item: SequenceItem; artifacts: Artifact[]; open: boolean }) {
  const { t } = useTranslation();
  const [shown, setShown] = useState(open);
  const found = itemStructure(item, artifacts);
  if (!found) return null;
  return (
    <Stack gap={4}>
      <Title order={4} size="h6">
        {t("sequence.structureViewer.section", { name: found.name })}
      </Title>
      {shown ? (
        <Suspense fallback={<Loading />}>
          <StructureViewer url={found.artifact.url} pdbId={found.pdbId} />
        </Suspense>
      ) : (
        <Button variant="light" onClick={() => setShown(true)} data-testid="open-structure" style={{ alignSelf: "flex-start" }}>
          {t("sequence.structureViewer.open", { id: found.pdbId })}
        </Button>
      )}
    </Stack>
  );
}

function ItemCard({ item, artifacts, openStructure }: { item: SequenceItem; artifacts: Artifact[]; openStructure: boolean }) {
  const { t } = useTranslation();
  const name = item.id === undefined || item.id === null ? `#${item.index + 1}` : String(item.id);
  if (!item.ok || !item.prediction) {
    return (
      <Card withBorder radius="md" data-testid="sequence-item">
        <Text fw={600}>{name}</Text>
        <Alert color="red" variant="light" mt="xs">
          {item.error ?? t("sequence.itemFailed")}
        </Alert>
      </Card>
    );
  }
  const { task1, task2, task3 } = item.prediction;
  const info = item.translation?.info;
  return (
    <Card withBorder radius="md" data-testid="sequence-item">
      <Stack gap="md">
        <Group justify="space-between" wrap="wrap" gap="xs">
          <Text fw={600} style={{ overflowWrap: "anywhere" }}>
            {name}
          </Text>
          <Group gap="xs">
            {info ? (
              <Badge variant="outline" color="gray">
                {t("sequence.inputInfo", { type: t(`sequence.seqTypes.${info.input_type}`), length: info.length })}
              </Badge>
            ) : null}
            {item.confidence ? (
              <Badge color={item.confidence === "high" ? "green" : item.confidence === "low" ? "orange" : "gray"} variant="light">
                {t(`sequence.confidence.${item.confidence}`)}
              </Badge>
            ) : null}
          </Group>
        </Group>
        <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="md">
          <Stack gap={6}>
            <Title order={4} size="h6">
              {t("sequence.task1")}
            </Title>
            <Badge color={task1.is_pathogen ? "red" : "green"} variant="filled" size="lg">
              {task1.is_pathogen ? t("sequence.pathogen") : t("sequence.nonPathogen")}
            </Badge>
            <ProbabilityBar label={t("sequence.pathogenProbability")} probability={task1.probability} color="red" />
          </Stack>
          <Stack gap={6}>
            <Title order={4} size="h6">
              {t("sequence.task2")}
            </Title>
            <ProbabilityBar label={task2.protein_type} probability={task2.probability} />
            {task2.best_guess ? (
              <Text size="xs" c="dimmed">
                {t("sequence.bestGuess", { label: task2.best_guess })}
              </Text>
            ) : null}
          </Stack>
          <Stack gap={6}>
            <Title order={4} size="h6">
              {t("sequence.task3")}
            </Title>
            {task3.top_predictions.length === 0 ? (
              <Text size="sm" c="dimmed">
                {t("sequence.noTask3")}
              </Text>
            ) : (
              task3.top_predictions.map(([label, p]) => <ProbabilityBar key={label} label={label} probability={p} color="grape" />)
            )}
          </Stack>
        </SimpleGrid>
        <Stack gap={4}>
          <Title order={4} size="h6">
            {t("sequence.hitsTitle")}
          </Title>
          <HitsTable references={item.nearest_references ?? []} />
        </Stack>
        <StructureSection item={item} artifacts={artifacts} open={openStructure} />
      </Stack>
    </Card>
  );
}

export function SequenceResult({ result, artifacts }: { result: SequenceBatchResult; artifacts: Artifact[] }) {
  const { t } = useTranslation();
  const [page, setPage] = useState(1);
  const pages = Math.max(1, Math.ceil(result.results.length / PER_PAGE));
  const shown = result.results.slice((page - 1) * PER_PAGE, page * PER_PAGE);
  return (
    <Stack gap="md">
      <Group gap="xs" wrap="wrap">
        <Badge variant="light">{t("sequence.count", { count: result.count })}</Badge>
        <Badge variant="light" color="green">
          {t("sequence.okCount", { count: result.ok_count })}
        </Badge>
        {result.failed_count > 0 ? (
          <Badge variant="light" color="red">
            {t("sequence.failedCount", { count: result.failed_count })}
          </Badge>
        ) : null}
      </Group>
      {shown.map((item) => (
        // One sequence: its structure opens at once; in a batch each waits for a click.
        <ItemCard key={item.index} item={item} artifacts={artifacts} openStructure={result.results.length === 1} />
      ))}
      {pages > 1 ? <Pagination total={pages} value={page} onChange={setPage} size="sm" /> : null}
    </Stack>
  );
}
