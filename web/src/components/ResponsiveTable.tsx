import { Paper, SimpleGrid, Stack, Table, Text } from "@mantine/core";
import type { ReactNode } from "react";

export interface Column<T> {
  key: string;
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** The card's title on a phone (the first column if none says so). */
  primary?: boolean;
}

interface Props<T> {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string | number;
  testId?: string;
  striped?: boolean;
}

/**
 * A table from the "sm" breakpoint up; below it (a phone) each row becomes a card of
 * label/value pairs, so nothing needs sideways scrolling at 390 px.
 */
export function ResponsiveTable<T>({ columns, rows, rowKey, testId, striped }: Props<T>) {
  const primary = columns.find((column) => column.primary) ?? columns[0];
  const rest = columns.filter((column) => column !== primary);
  return (
    <div data-testid={testId}>
      <Table.ScrollContainer minWidth={480} visibleFrom="sm">
        <Table verticalSpacing="xs" fz="sm" striped={striped} highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              {columns.map((column) => (
                <Table.Th key={column.key}>{column.header}</Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row) => (
              <Table.Tr key={rowKey(row)}>
                {columns.map((column) => (
                  <Table.Td key={column.key}>{column.cell(row)}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Stack gap="xs" hiddenFrom="sm">
        {rows.map((row) => (
          <Paper key={rowKey(row)} withBorder p="sm" radius="sm">
            <Text fw={600} size="sm" mb={rest.length ? 6 : 0} style={{ overflowWrap: "anywhere" }}>
              {primary.cell(row)}
            </Text>
            {rest.length ? (
              <SimpleGrid cols={2} spacing="xs" verticalSpacing={6}>
                {rest.map((column) => (
                  <Stack key={column.key} gap={0} style={{ minWidth: 0 }}>
                    <Text size="xs" c="dimmed">
                      {column.header}
                    </Text>
                    <Text component="div" size="sm" style={{ overflowWrap: "anywhere" }}>
                      {column.cell(row)}
                    </Text>
                  </Stack>
                ))}
              </SimpleGrid>
            ) : null}
          </Paper>
        ))}
      </Stack>
    </div>
  );
}
