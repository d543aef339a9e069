import type { EnvelopeOutcome, Profile } from '../../core/index.ts';
import { nextDueAt, RECEIPT_DELAY_MS } from '../../core/messaging/outbox.ts';
import type { SendReport, SyncEngine, SyncEvent } from '../../core/sync/engine.ts';
import { type GlobalOptions, print, withEngine } from '../context.ts';

// What `receive`, `sync` and `listen` do (the definitions are commands/sync.ts).

/**
 * Sends the delivery receipts this run queued, each once its random 1-10 s
 * delay is over (docs/message-format.md#receipts): a one-shot command sends
 * them rather than leaving them to its next run.
 */
async function sendReceipts(profile: Profile, engine: SyncEngine): Promise<SendReport> {
  let report = await engine.sendOutbox('receipts');
  let sent = report.sent;
  for (
    let due = nextDueAt(profile, 'receipts');
    due !== undefined;
    due = nextDueAt(profile, 'receipts')
  ) {
    // Only the receipt delay is waited for, never a refused entry's longer retry time.
    if (due - Date.now() > RECEIPT_DELAY_MS.max) break;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now()) + 5));
    report = await engine.sendOutbox('receipts');
    sent += report.sent;
  }
  return { ...report, sent };
}

/** `receive`: fetch and store incoming messages, send receipts, exit. */
export function receive(g: GlobalOptions): Promise<void> {
  return withEngine(g, async (profile, engine) => {
    await engine.publishKeys();
    const report = await engine.receive();
    await sendReceipts(profile, engine);
    print(g, report, () => `Received ${report.stored} new message(s).`);
  });
}

/** `sync`: send the outbox, fetch incoming messages, send receipts, exit. */
export function sync(g: GlobalOptions): Promise<void> {
  return withEngine(g, async (profile, engine) => {
    await engine.publishKeys();
    const sent = await engine.sendOutbox();
    const received = await engine.receive();
    const receipts = await sendReceipts(profile, engine);
    const report = {
      sent: sent.sent + receipts.sent,
      waiting: receipts.waiting,
      failed: sent.failed.length,
      ...received,
    };
    print(
      g,
      report,
      () => `Sent ${report.sent}, received ${report.stored}, waiting ${report.waiting}.`,
    );
  });
}

/** `listen`: stay connected, one JSON line per event, until SIGINT or SIGTERM. */
export function listen(g: GlobalOptions): Promise<void> {
  return withEngine(g, async (_profile, engine) => {
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const emit = (event: unknown) => process.stdout.write(`${JSON.stringify(event)}\n`);
    await engine.listen(stop.signal, (event: SyncEvent) => {
      if (event.type === 'drained') return; // once per idle pass: noise for a script
      if (event.type !== 'received') return emit(event);
      for (const outcome of event.outcomes) emit(describe(outcome));
    });
  });
}

function describe(outcome: EnvelopeOutcome): unknown {
  if (outcome.outcome === 'stored') {
    const { message } = outcome;
    return {
      type: 'message',
      id: outcome.messageUuid,
      sentAt: message.sentAt,
      sender: message.senderAccount,
      body: message.body,
    };
  }
  if (outcome.outcome === 'retry' || outcome.outcome === 'rejected')
    return { type: outcome.outcome, error: outcome.error };
  return { type: outcome.outcome };
}
