// The relay's Prometheus metrics (docs/relay-operations.md#metrics), kept in
// this process and written in the text exposition format (version 0.0.4) by
// hand: a few counters, gauges and one histogram need no library. Like the
// log, metrics carry no labels that could name an account, a key or an
// address: only fixed method and budget names.

/** Upper bounds (seconds) of the storage latency histogram. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

class Histogram {
  readonly counts = LATENCY_BUCKETS.map(() => 0);
  count = 0;
  sum = 0;

  observe(seconds: number): void {
    this.count += 1;
    this.sum += seconds;
    LATENCY_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) this.counts[i]! += 1;
    });
  }
}

/** The process's counters and gauges (one relay per process). */
export const metrics = {
  /** Open WebSocket connections (any stage). */
  connections: 0,
  /** Envelopes committed to storage by this node (duplicates and refusals not counted). */
  envelopesIn: 0,
  /** Envelopes pushed to clients by this node (a redelivery counts again). */
  envelopesOut: 0,
  /** Envelopes acked (deleted) through this node. */
  envelopesAcked: 0,
  /** Requests refused by a budget, by budget side. */
  budgetRefusals: new Map<string, number>(),
  /** Storage call latency by method. */
  storage: new Map<string, Histogram>(),
  /** Storage calls that failed, by method. */
  storageErrors: new Map<string, number>(),
  /** Blob uploads reserved (blob.create answered). */
  blobsCreated: 0,
  /** Blob uploads that became complete. */
  blobsStored: 0,
  /** Blob bytes received in PATCH bodies and made durable. */
  blobBytesIn: 0,
  /** Blob bytes sent in GET answers. */
  blobBytesOut: 0,
  /** Blob requests refused, by fixed reason (too_large, quota, token, offset, busy...). */
  blobRefusals: new Map<string, number>(),
  /** True from SIGTERM on: /healthz answers 503 so the load balancer stops sending clients. */
  draining: false,
};

/** Counts one budget refusal (`side`: a fixed name such as 'submit'). */
export function countBudgetRefusal(side: string): void {
  metrics.budgetRefusals.set(side, (metrics.budgetRefusals.get(side) ?? 0) + 1);
}

/** Counts one refused blob request (`reason`: a fixed name such as 'quota'). */
export function countBlobRefusal(reason: string): void {
  metrics.blobRefusals.set(reason, (metrics.blobRefusals.get(reason) ?? 0) + 1);
}

/** Records one storage call's duration, and whether it failed. */
export function observeStorage(method: string, seconds: number, failed: boolean): void {
  let histogram = metrics.storage.get(method);
  if (histogram === undefined) {
    histogram = new Histogram();
    metrics.storage.set(method, histogram);
  }
  histogram.observe(seconds);
  if (failed) metrics.storageErrors.set(method, (metrics.storageErrors.get(method) ?? 0) + 1);
}

/** The metrics in Prometheus text format; `queueDepth` is the in-flight gauge the server reads at scrape time. */
export function renderMetrics(queueDepth: number): string {
  const lines: string[] = [];
  const family = (name: string, type: string, help: string) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  family('sotto_relay_connections', 'gauge', 'Open WebSocket connections.');
  lines.push(`sotto_relay_connections ${metrics.connections}`);
  family('sotto_relay_envelopes_in_total', 'counter', 'Envelopes stored by this node.');
  lines.push(`sotto_relay_envelopes_in_total ${metrics.envelopesIn}`);
  family('sotto_relay_envelopes_out_total', 'counter', 'Envelopes pushed to clients.');
  lines.push(`sotto_relay_envelopes_out_total ${metrics.envelopesOut}`);
  family('sotto_relay_envelopes_acked_total', 'counter', 'Envelopes acked by clients.');
  lines.push(`sotto_relay_envelopes_acked_total ${metrics.envelopesAcked}`);
  family('sotto_relay_queue_depth', 'gauge', 'Envelopes pushed by this node and not yet acked.');
  lines.push(`sotto_relay_queue_depth ${queueDepth}`);
  family('sotto_relay_budget_refusals_total', 'counter', 'Requests refused by a budget.');
  for (const [side, count] of metrics.budgetRefusals)
    lines.push(`sotto_relay_budget_refusals_total{budget="${side}"} ${count}`);
  family('sotto_relay_storage_seconds', 'histogram', 'Storage call latency.');
  for (const [method, h] of metrics.storage) {
    LATENCY_BUCKETS.forEach((bound, i) =>
      lines.push(
        `sotto_relay_storage_seconds_bucket{method="${method}",le="${bound}"} ${h.counts[i]}`,
      ),
    );
    lines.push(`sotto_relay_storage_seconds_bucket{method="${method}",le="+Inf"} ${h.count}`);
    lines.push(`sotto_relay_storage_seconds_sum{method="${method}"} ${h.sum}`);
    lines.push(`sotto_relay_storage_seconds_count{method="${method}"} ${h.count}`);
  }
  family('sotto_relay_storage_errors_total', 'counter', 'Storage calls that failed.');
  for (const [method, count] of metrics.storageErrors)
    lines.push(`sotto_relay_storage_errors_total{method="${method}"} ${count}`);
  family('sotto_relay_blobs_created_total', 'counter', 'Blob uploads reserved.');
  lines.push(`sotto_relay_blobs_created_total ${metrics.blobsCreated}`);
  family('sotto_relay_blobs_stored_total', 'counter', 'Blob uploads completed.');
  lines.push(`sotto_relay_blobs_stored_total ${metrics.blobsStored}`);
  family('sotto_relay_blob_bytes_in_total', 'counter', 'Blob bytes received and made durable.');
  lines.push(`sotto_relay_blob_bytes_in_total ${metrics.blobBytesIn}`);
  family('sotto_relay_blob_bytes_out_total', 'counter', 'Blob bytes sent to downloaders.');
  lines.push(`sotto_relay_blob_bytes_out_total ${metrics.blobBytesOut}`);
  family('sotto_relay_blob_refusals_total', 'counter', 'Blob requests refused.');
  for (const [reason, count] of metrics.blobRefusals)
    lines.push(`sotto_relay_blob_refusals_total{reason="${reason}"} ${count}`);
  family('sotto_relay_draining', 'gauge', '1 once the node drains (SIGTERM).');
  lines.push(`sotto_relay_draining ${metrics.draining ? 1 : 0}`);
  return `${lines.join('\n')}\n`;
}
