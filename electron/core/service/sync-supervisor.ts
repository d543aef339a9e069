import type { ConnectionState, SyncStatus } from '../../../shared/ipc/contract.ts';
import type { DownloadRules } from '../attachments/download-policy.ts';
import { hasCode } from '../errors.ts';
import { groupMessageById, totalGroupUnread } from '../groups/index.ts';
import { mutedUntil, type MuteTarget } from '../history/mute.ts';
import { totalUnread } from '../history/conversation-state.ts';
import { log } from '../log.ts';
import { outboxSize } from '../messaging/outbox.ts';
import type { EnvelopeOutcome } from '../messaging/receive.ts';
import type { StatusChange } from '../messaging/status-change.ts';
import { getSetting } from '../profile/settings.ts';
import type { Profile } from '../profile/profile.ts';
import { sleep } from '../sync/backoff.ts';
import { SyncEngine, type SyncEvent } from '../sync/engine.ts';
import type { Emit } from './types.ts';

/** A receive pass that stores at least this many messages is shown as a backlog. */
const BACKLOG_THRESHOLD = 50;

/**
 * The service's background sync: one SyncEngine running `listen` for the open
 * profile, restarted after unexpected failures; what it reports becomes push
 * events (`message:new`, `message:status`, `conversations:changed`,
 * `sync:status`). Status changes come from the engine as the rows that
 * changed, never from re-reading history.
 */
export class SyncSupervisor {
  private current:
    | {
        readonly profile: Profile;
        readonly engine: SyncEngine;
        readonly abort: AbortController;
        readonly done: Promise<void>;
      }
    | undefined;
  private connection: ConnectionState = 'connecting';
  private backlog: { received: number } | null = null;
  private lastStatus = '';

  constructor(
    private readonly emit: Emit,
    /** False in offline tests: no engine is started. */
    private readonly enabled: boolean,
    /** The app's auto-download rules for the engine's drains (service/download-control.ts). */
    private readonly downloadRules: (profile: Profile) => DownloadRules,
  ) {}

  /** The running engine, if the profile has a relay and sync is on. */
  get engine(): SyncEngine | undefined {
    return this.current?.engine;
  }

  /** Starts syncing `profile` (if it has a relay); publishes the status either way. */
  start(profile: Profile): void {
    if (!this.enabled || getSetting(profile.db, 'relay') === undefined) {
      this.publishStatus(profile);
      return;
    }
    const engine = new SyncEngine(profile);
    engine.downloadRules = () => this.downloadRules(profile);
    const abort = new AbortController();
    engine.onStatusChange((changes) => this.statusChanged(profile, changes));
    this.connection = 'connecting';
    const done = (async () => {
      while (!abort.signal.aborted) {
        try {
          await engine.listen(abort.signal, (event) => this.onSync(profile, event));
        } catch (error) {
          // Anything but an unreachable relay: log the code, stay up, try again shortly.
          log.error('service.sync', error);
          this.connection = 'offline';
          this.publishStatus(profile);
          await sleep(5_000, abort.signal);
        }
      }
    })();
    this.current = { profile, engine, abort, done };
    this.publishStatus(profile);
  }

  /** Stops the loop and closes the engine (after a running outbox pass). */
  async stop(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    if (!current) return;
    current.abort.abort();
    await current.done;
    await current.engine.close();
  }

  /** The status as `sync:status` reports it (`profile` undefined: nothing is open). */
  status(profile: Profile | undefined): SyncStatus {
    const configured = profile !== undefined && getSetting(profile.db, 'relay') !== undefined;
    return {
      connection: configured ? this.connection : 'not-configured',
      outbox: profile ? outboxSize(profile) : 0,
      backlog: this.backlog,
      // The badge: unread 1:1 messages and unread group messages alike.
      unread: profile ? totalUnread(profile.db) + totalGroupUnread(profile.db) : 0,
    };
  }

  /**
   * Sends the outbox now rather than on the listen loop's next turn. The
   * engine runs one pass at a time: a call during a pass joins it and gets one
   * more pass afterwards. Fire-and-forget: failures are logged by code; the
   * statuses the pass changed arrive through the engine's status events.
   */
  sendNow(profile: Profile): void {
    const current = this.current;
    if (!current) {
      this.publishStatus(profile);
      return;
    }
    void current.engine
      .sendOutbox()
      .catch((error: unknown) => {
        if (!isRelayProblem(error)) log.error('service.send', error);
      })
      .finally(() => {
        if (this.current === current) this.publishStatus(profile);
      })
      .catch((error: unknown) => log.error('service.send_status', error));
  }

  /** Emits sync:status when connection, outbox, backlog or unread changed. */
  publishStatus(profile: Profile | undefined): void {
    const status = this.status(profile);
    const key = JSON.stringify(status);
    if (key === this.lastStatus) return;
    this.lastStatus = key;
    this.emit('sync:status', status);
  }

  private statusChanged(profile: Profile, changes: readonly StatusChange[]): void {
    if (this.current?.profile !== profile) return; // a stopped engine's last pass
    for (const change of changes) this.emit('message:status', change);
  }

  private onSync(profile: Profile, event: SyncEvent): void {
    switch (event.type) {
      case 'connection':
        this.connection = event.state;
        break;
      case 'received':
        this.received(profile, event.outcomes);
        break;
      case 'drained':
        this.backlog = null;
        break;
      case 'sent':
      case 'keys':
        break;
    }
    this.publishStatus(profile);
  }

  private received(profile: Profile, outcomes: readonly EnvelopeOutcome[]): void {
    let stored = 0;
    // A control content (a contact's move notice, a new token, a group update) changes the list without a message.
    let changed = false;
    const now = Date.now();
    const isMuted = (target: MuteTarget) => mutedUntil(profile.db, target, now) !== null;
    for (const outcome of outcomes) {
      if (outcome.outcome === 'control') changed = true;
      if (outcome.outcome === 'group') {
        changed = true;
        // Read back once, after the commit, for the notification and the open group.
        const message = groupMessageById(profile.db, outcome.messageId);
        // A mute's end is checked as the message arrives (no timer lifts it).
        if (message)
          this.emit('group:message', {
            ...message,
            muted: isMuted({ kind: 'group', ref: outcome.groupRef }),
          });
        continue;
      }
      if (outcome.outcome !== 'stored') continue;
      stored++;
      // The row as committed (the core read it once in the commit): the UI shows exactly that.
      this.emit('message:new', {
        ...outcome.message,
        muted: isMuted({ kind: 'conversation', id: outcome.message.conversationId }),
      });
    }
    if (stored > 0 || changed) this.emit('conversations:changed', {});
    if (this.backlog || stored >= BACKLOG_THRESHOLD)
      this.backlog = { received: (this.backlog?.received ?? 0) + stored };
  }
}

function isRelayProblem(error: unknown): boolean {
  return (
    hasCode(error, 'RELAY_UNAVAILABLE') ||
    hasCode(error, 'RELAY_REFUSED') ||
    hasCode(error, 'NOT_CONFIGURED') ||
    hasCode(error, 'INSECURE_RELAY') ||
    hasCode(error, 'RELAY_ADDRESS_REFUSED')
  );
}
