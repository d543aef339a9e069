import {
  type Content,
  encodeContent,
  MAX_CONTENT_BYTES,
} from '../../../shared/protocol/content.ts';
import { fromBase64 } from '../../../shared/protocol/encoding.ts';
import {
  type GroupSnapshot,
  type GroupSnapshotPart,
  groupSnapshotPartSchema,
  groupSnapshotSchema,
  MAX_SNAPSHOT_PARTS,
  type SignedGroupUpdate,
} from '../../../shared/protocol/group.ts';
import type { Sql } from '../db/sqlite.ts';
import { updateHash } from './group-signing.ts';

// A new member's state in numbered parts (docs/message-format.md#groups):
// 1,000 member cards do not fit in one content (88 KiB), so the add goes
// to the new member once per part, each carrying the same signed update and
// a slice of the members. The receiver keeps parts by (update hash, sealed
// sender) and applies the state only when all parts of that one update are
// there: parts of different updates or revisions never mix, a replayed part
// changes nothing, and what waits is bounded per sender and in total.

type GroupUpdateContent = Extract<Content, { type: 'group-update' }>;

/** Parts one sender may have waiting (two updates in flight). */
export const MAX_PENDING_PARTS_PER_SENDER = 2 * MAX_SNAPSHOT_PARTS;
/** Parts waiting from everyone together. */
export const MAX_PENDING_PARTS = 8 * MAX_SNAPSHOT_PARTS;
/** A part that waited this long for its siblings is dropped. */
export const PART_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The contents that carry `signed` (an add) to the member it adds: one with
 * the whole `snapshot` if it fits in a content, else the fewest equal slices
 * of its members that each fit.
 */
export function snapshotContents(
  signed: SignedGroupUpdate,
  snapshot: GroupSnapshot,
  sentAt: number,
): GroupUpdateContent[] {
  const whole: GroupUpdateContent = { v: 1, type: 'group-update', signed, snapshot, sentAt };
  if (encodeContent(whole).length <= MAX_CONTENT_BYTES) return [whole];
  const { members, ...header } = snapshot;
  for (let parts = 2; parts <= MAX_SNAPSHOT_PARTS; parts++) {
    const size = Math.ceil(members.length / parts);
    if (size * (parts - 1) >= members.length) continue; // every part must hold a member
    const contents = Array.from({ length: parts }, (_, part): GroupUpdateContent => ({
      v: 1,
      type: 'group-update',
      signed,
      snapshotPart: {
        ...header,
        part,
        parts,
        members: members.slice(part * size, (part + 1) * size),
      },
      sentAt,
    }));
    if (contents.every((c) => encodeContent(c).length <= MAX_CONTENT_BYTES)) return contents;
  }
  throw new RangeError('snapshot does not fit in MAX_SNAPSHOT_PARTS contents');
}

/** Where parts wait: the database (commit), or the database seen through a receive batch. */
export interface PartBuffer {
  /** The parts stored for one update from one sender, any order. */
  parts(hash: string, sender: string): GroupSnapshotPart[];
  add(hash: string, sender: string, part: GroupSnapshotPart, now: number): void;
  drop(hash: string, sender: string): void;
  /** Parts waiting from `sender`, and from everyone. */
  pending(sender: string): { readonly sender: number; readonly total: number };
}

/** What a part leads to. */
export type Gathered =
  | { readonly kind: 'complete'; readonly content: GroupUpdateContent }
  | { readonly kind: 'pending' }
  | { readonly kind: 'refused'; readonly reason: 'INVALID' | 'NOT_AUTHOR' | 'PARTS_FULL' };

/**
 * Takes a part of a joining snapshot: refused if it cannot belong to the
 * update it rides on (author, group, revision, head) or disagrees with its
 * siblings, kept if parts are missing, and once all are there the content
 * comes back whole (`snapshot`), to be judged by the usual joining rules.
 */
export function gatherPart(
  buffer: PartBuffer,
  content: GroupUpdateContent,
  sender: string,
  now: number,
): Gathered {
  const { signed, snapshotPart: part } = content;
  if (!part || content.snapshot) return { kind: 'refused', reason: 'INVALID' };
  const { update } = signed;
  if (update.author !== sender) return { kind: 'refused', reason: 'NOT_AUTHOR' };
  const hash = updateHash(signed);
  if (part.groupId !== update.groupId || part.revision !== update.revision || part.head !== hash)
    return { kind: 'refused', reason: 'INVALID' };
  const siblings = buffer.parts(hash, sender);
  const first = siblings[0];
  if (first && (first.parts !== part.parts || first.title !== part.title))
    return { kind: 'refused', reason: 'INVALID' };
  if (!siblings.some((p) => p.part === part.part)) {
    const pending = buffer.pending(sender);
    if (pending.sender >= MAX_PENDING_PARTS_PER_SENDER || pending.total >= MAX_PENDING_PARTS)
      return { kind: 'refused', reason: 'PARTS_FULL' };
    buffer.add(hash, sender, part, now);
    siblings.push(part);
  }
  if (siblings.length < part.parts) return { kind: 'pending' };
  buffer.drop(hash, sender);
  const members = [...siblings].sort((a, b) => a.part - b.part).flatMap((p) => p.members);
  const snapshot = groupSnapshotSchema.safeParse({
    groupId: part.groupId,
    title: part.title,
    revision: part.revision,
    head: part.head,
    members,
  });
  if (!snapshot.success) return { kind: 'refused', reason: 'INVALID' };
  return {
    kind: 'complete',
    content: {
      v: 1,
      type: 'group-update',
      signed,
      snapshot: snapshot.data,
      sentAt: content.sentAt,
    },
  };
}

/** The parts table (migration 0010), pruned of parts past their time on every write. */
export class DbPartBuffer implements PartBuffer {
  constructor(private readonly db: Sql) {}

  parts(hash: string, sender: string): GroupSnapshotPart[] {
    return this.db
      .prepare('SELECT body FROM group_snapshot_parts WHERE update_hash = ? AND sender = ?', {
        pluck: true,
      })
      .all<string>([fromBase64(hash), sender])
      .flatMap((body) => {
        const parsed = groupSnapshotPartSchema.safeParse(JSON.parse(body));
        return parsed.success ? [parsed.data] : [];
      });
  }

  add(hash: string, sender: string, part: GroupSnapshotPart, now: number): void {
    this.db
      .prepare('DELETE FROM group_snapshot_parts WHERE received_at < ?')
      .run([now - PART_TTL_MS]);
    this.db
      .prepare(
        `INSERT OR IGNORE INTO group_snapshot_parts (update_hash, sender, part, parts, body, received_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run([fromBase64(hash), sender, part.part, part.parts, JSON.stringify(part), now]);
  }

  drop(hash: string, sender: string): void {
    this.db
      .prepare('DELETE FROM group_snapshot_parts WHERE update_hash = ? AND sender = ?')
      .run([fromBase64(hash), sender]);
  }

  pending(sender: string) {
    const count = (where: string, params: string[]) =>
      Number(
        this.db
          .prepare(`SELECT count(*) FROM group_snapshot_parts ${where}`, { pluck: true })
          .get(params),
      );
    return { sender: count('WHERE sender = ?', [sender]), total: count('', []) };
  }
}

/**
 * The parts table as a receive batch sees it before its commit: what is
 * stored, plus the parts earlier in the batch (written by the commit, which
 * gathers them again through a DbPartBuffer by the same rules).
 */
export class BatchPartBuffer implements PartBuffer {
  private readonly added = new Map<string, GroupSnapshotPart[]>();
  private readonly dropped = new Set<string>();

  constructor(private readonly stored: PartBuffer) {}

  parts(hash: string, sender: string): GroupSnapshotPart[] {
    const key = `${hash}\n${sender}`;
    const before = this.dropped.has(key) ? [] : this.stored.parts(hash, sender);
    return [...before, ...(this.added.get(key) ?? [])];
  }

  add(hash: string, sender: string, part: GroupSnapshotPart): void {
    const key = `${hash}\n${sender}`;
    this.added.set(key, [...(this.added.get(key) ?? []), part]);
  }

  drop(hash: string, sender: string): void {
    const key = `${hash}\n${sender}`;
    this.added.delete(key);
    this.dropped.add(key);
  }

  pending(sender: string) {
    const stored = this.stored.pending(sender);
    let mine = 0;
    let all = 0;
    for (const [key, parts] of this.added) {
      all += parts.length;
      if (key.endsWith(`\n${sender}`)) mine += parts.length;
    }
    return { sender: stored.sender + mine, total: stored.total + all };
  }
}
