import { Alert, MultiSelect } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorAlert } from "@/components/ErrorAlert";

import { type Clinician, clinicianLabel, useClinicianDirectory } from "../api/careTeam";

interface Props {
  value: number[];
  onChange: (ids: number[]) => void;
  /** The signed-in clinician: removing oneself ends one's own access, so it is said first. */
  meId?: number;
  error?: string;
}

/** The care team, picked from the directory of active clinicians (searchable by name). */
export function CareTeamField({ value, onChange, meId, error }: Props) {
  const { t } = useTranslation();
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const directory = useClinicianDirectory(debounced);
  // Everyone seen so far keeps a label, so a chosen clinician stays named when a search hides them.
  const [known, setKnown] = useState<Map<number, Clinician>>(new Map());
  useEffect(() => {
    const results = directory.data?.results;
    if (!results?.length) return;
    setKnown((current) => {
      const next = new Map(current);
      for (const clinician of results) next.set(clinician.id, clinician);
      return next;
    });
  }, [directory.data]);

  const data = useMemo(() => {
    const ids = new Set<number>([...value, ...(directory.data?.results ?? []).map((c) => c.id)]);
    return [...ids].map((id) => {
      const clinician = known.get(id) ?? directory.data?.results.find((c) => c.id === id);
      return { value: String(id), label: clinician ? clinicianLabel(clinician) : t("careTeam.unknown", { id }) };
    });
  }, [value, directory.data, known, t]);

  const leavingMyself = meId !== undefined && known.has(meId) && !value.includes(meId);
  return (
    <>
      <MultiSelect
        label={t("careTeam.label")}
        description={t("careTeam.hint")}
        placeholder={value.length ? undefined : t("careTeam.placeholder")}
        data={data}
        value={value.map(String)}
        onChange={(ids) => onChange(ids.map(Number))}
        searchable
        searchValue={search}
        onSearchChange={setSearch}
        filter={({ options }) => options}
        nothingFoundMessage={directory.isFetching ? t("common.loading") : t("careTeam.nothingFound")}
        error={error}
        clearable
        hidePickedOptions
        data-testid="care-team-field"
      />
      {leavingMyself ? (
        <Alert color="orange" variant="light" data-testid="care-team-leaving">
          {t("careTeam.leavingMyself")}
        </Alert>
      ) : null}
      <ErrorAlert error={directory.error} />
    </>
  );
}
