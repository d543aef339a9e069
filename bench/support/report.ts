import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A target a figure is compared against (informative: benchmarks never fail). */
export interface Target {
  readonly op: '>=' | '<=';
  readonly value: number;
}

/** One reported figure. `ratio` in the tables is value / baseline.value. */
export interface Metric {
  readonly section: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: Target;
  readonly baseline?: { readonly name: string; readonly value: number };
  readonly note?: string;
}

const THROUGHPUT_UNITS = new Set(['msg/s', 'decrypts/s']);

/** A number in the metric's unit, for people. */
export function formatValue(value: number, unit: string): string {
  if (THROUGHPUT_UNITS.has(unit)) return `${Math.round(value).toLocaleString('en-US')} ${unit}`;
  if (unit === 'ms') return `${value.toFixed(value < 10 ? 3 : value < 100 ? 1 : 0)} ms`;
  if (unit === '×') return `${value.toFixed(2)}×`;
  if (unit === 'MB') return `${value.toFixed(1)} MB`;
  return `${value.toLocaleString('en-US', { maximumFractionDigits: 1 })} ${unit}`;
}

export function ratioOf(metric: Metric): number | undefined {
  return metric.baseline && metric.baseline.value > 0
    ? metric.value / metric.baseline.value
    : undefined;
}

/** 'yes' / 'no' against the target, '' without one. */
export function meets(metric: Metric): string {
  if (!metric.target) return '';
  const ok =
    metric.target.op === '>='
      ? metric.value >= metric.target.value
      : metric.value <= metric.target.value;
  return ok ? 'yes' : 'NO';
}

function targetText(metric: Metric): string {
  if (!metric.target) return '';
  return `${metric.target.op === '>=' ? '≥' : '≤'} ${formatValue(metric.target.value, metric.unit)}`;
}

function baselineText(metric: Metric): string {
  const ratio = ratioOf(metric);
  if (!metric.baseline || ratio === undefined) return '';
  return `${formatValue(ratio, '×')} of ${metric.baseline.name} (${formatValue(metric.baseline.value, metric.unit)})`;
}

/** Prints metrics as an aligned table with a title. */
export function printTable(title: string, metrics: readonly Metric[]): void {
  const header = ['metric', 'figure', 'target', 'meets', 'baseline / ratio'];
  const rows = metrics.map((m) => [
    m.name,
    formatValue(m.value, m.unit),
    targetText(m),
    meets(m),
    baselineText(m),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' │ ')
      .trimEnd();
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '─'.repeat(w)).join('─┼─'));
  for (const row of rows) console.log(line(row));
  const notes = metrics.filter((m) => m.note);
  for (const m of notes) console.log(`  · ${m.name}: ${m.note}`);
}

/** Writes the run as JSON (bench/results/ is git-ignored). */
export function writeResults(
  path: string,
  run: Record<string, unknown>,
  metrics: readonly Metric[],
): void {
  mkdirSync(dirname(path), { recursive: true });
  const rows = metrics.map((m) => ({
    ...m,
    ratio: ratioOf(m) ?? null,
    meetsTarget: m.target ? meets(m) === 'yes' : null,
  }));
  writeFileSync(path, `${JSON.stringify({ ...run, metrics: rows }, null, 2)}\n`);
}
