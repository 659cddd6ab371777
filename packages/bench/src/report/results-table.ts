import type { MachineInfo } from "../machine-info";
import { cpuSummaries, isCpuPart } from "./cpu-figures";
import type { FigureLine } from "./figure-line";

// The human view of the same lines that are printed as JSON: aligned columns, thousands
// separators, and the status in place of numbers when there are none.

const HEADERS = ["scenario", "figure", "unit", "median", "min .. max", "runs", "ratio"] as const;

export function formatMachine(machine: MachineInfo): string {
  return (
    `machine: ${machine.cpu_model}, ${machine.cores} cores, ${machine.memory_gb} GB, node ${machine.node}, ` +
    `${machine.platform}, load average ${machine.load_average.join(" / ")} at start`
  );
}

export function formatResultsTable(allLines: readonly FigureLine[]): string {
  // Each process's CPU figure is shown beside its total, below the table, not as a row of its own.
  const lines = allLines.filter((line) => !isCpuPart(line));
  const rows = lines.map(toRow);
  // A status row (pending, skipped, failed) spans the number columns, so it does not widen them.
  const widths = HEADERS.map((header, column) =>
    Math.max(
      header.length,
      ...rows
        .filter((row) => column < 3 || row.length === HEADERS.length)
        .map((row) => (row[column] ?? "").length),
    ),
  );
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => {
        const width = widths[column] as number;
        if (cells.length < HEADERS.length && column === cells.length - 1) return cell;
        // Numbers right-aligned so magnitudes line up; the last column is left ragged.
        return column >= 3 && column <= 5 ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  const details = lines
    .filter((line) => line.detail !== undefined)
    .map((line) => `  ${line.scenario} / ${line.figure}: ${line.detail}`);
  const cpu = cpuSummaries(allLines).map(
    ({ total, processes }) =>
      `  ${total.scenario} / ${total.figure}: ${formatNumber(total.median)} (${processes
        .map(({ process, median }) => `${process} ${formatNumber(median)}`)
        .join(", ")})`,
  );
  return [
    render(HEADERS),
    rule,
    ...rows.map(render),
    ...(cpu.length > 0 ? ["", "CPU seconds per 1M events in the timed window (medians):", ...cpu] : []),
    ...(details.length > 0 ? ["", "details:", ...details] : []),
  ].join("\n");
}

function toRow(line: FigureLine): string[] {
  const figure = line.figure ?? "-";
  const unit = line.unit ?? "";
  if (line.status !== "measured") {
    return [line.scenario, figure, unit, `${line.status}: ${line.reason ?? ""}`];
  }
  const ratio =
    line.ratio_vs === null
      ? ""
      : line.ratio === null
        ? `? vs ${line.ratio_vs}`
        : `${formatRatio(line.ratio)} vs ${line.ratio_vs}`;
  return [
    line.scenario,
    figure,
    unit,
    formatNumber(line.median),
    `${formatNumber(line.min)} .. ${formatNumber(line.max)}`,
    String(line.runs),
    ratio,
  ];
}

export function formatNumber(value: number | null): string {
  if (value === null) return "-";
  if (Number.isInteger(value) || Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatRatio(ratio: number): string {
  return `${ratio.toFixed(2)}x`;
}
