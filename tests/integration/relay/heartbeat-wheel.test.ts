import { afterEach, expect, it } from 'vitest';
import { HeartbeatWheel } from '../../../relay/heartbeat-wheel.ts';
import { waitFor } from '../../support/blob-http.ts';

// The relay's heartbeat timer wheel on real timers (a 500 ms period: 10 slots
// of 50 ms). Which members a tick visits is observed by "batch": calls made
// in one synchronous run share a batch number (a microtask closes it).

let batch = 0;
let batchOpen = false;
function currentBatch(): number {
  if (!batchOpen) {
    batchOpen = true;
    batch += 1;
    queueMicrotask(() => (batchOpen = false));
  }
  return batch;
}

class Member {
  readonly visits: number[] = [];
  onVisit: (() => void) | undefined;
  heartbeat(): void {
    this.visits.push(currentBatch());
    this.onVisit?.();
  }
}

let wheel: HeartbeatWheel<Member> | undefined;
afterEach(() => wheel?.stop());

function membersByBatch(members: readonly Member[]): Map<number, number> {
  const sizes = new Map<number, number>();
  for (const member of members)
    for (const b of member.visits) sizes.set(b, (sizes.get(b) ?? 0) + 1);
  return sizes;
}

it('slots stay even when the members of one slot leave and new ones come: every tick visits 10 of 100', async () => {
  wheel = new HeartbeatWheel<Member>(500);
  const first = Array.from({ length: 100 }, () => new Member());
  first.forEach((member) => wheel!.add(member));
  // Members 0, 10, …, 90 were dealt to the same slot: they all leave at once.
  const leaving = first.filter((_, i) => i % 10 === 0);
  leaving.forEach((member) => wheel!.remove(member));
  const newcomers = Array.from({ length: 10 }, () => new Member());
  newcomers.forEach((member) => wheel!.add(member));
  const members = [...first.filter((m) => !leaving.includes(m)), ...newcomers];
  expect(wheel.size).toBe(100);
  wheel.start();
  await waitFor(() => members.every((m) => m.visits.length >= 2), 'two visits each', 60_000);
  wheel.stop();
  // Dealing round-robin would have put one newcomer in each other slot (11 there, 0 in the emptied one).
  expect([...new Set(membersByBatch(members).values())]).toEqual([10]);
  expect(leaving.every((m) => m.visits.length === 0)).toBe(true);
});

it('each member is visited once per period; a member removed is never visited again, even by its own heartbeat', async () => {
  wheel = new HeartbeatWheel<Member>(500);
  const members = Array.from({ length: 20 }, () => new Member());
  members.forEach((member) => wheel!.add(member));
  // Removes itself from inside its first visit (a terminated socket closing at once).
  const quitter = members[0]!;
  quitter.onVisit = () => wheel!.remove(quitter);
  wheel.start();
  await waitFor(() => members.slice(1).every((m) => m.visits.length >= 3), 'visits', 60_000);
  wheel.stop();
  expect(quitter.visits).toHaveLength(1);
  // The other member of the quitter's slot was still visited in that same tick.
  const sameTick = members.slice(1).filter((m) => m.visits.includes(quitter.visits[0]!));
  expect(sameTick).toHaveLength(1);
  // Every slot still has a member, so a tick is a batch: 10 ticks (one period) between a member's visits.
  for (const member of members.slice(1))
    expect(member.visits.slice(1).map((b, i) => b - member.visits[i]!)).toEqual(
      member.visits.slice(1).map(() => 10),
    );
  expect(wheel.size).toBe(19);
});

it('a period shorter than two slots is one slot: every member each tick (a 50 ms test heartbeat)', async () => {
  wheel = new HeartbeatWheel<Member>(50);
  const members = Array.from({ length: 5 }, () => new Member());
  members.forEach((member) => wheel!.add(member));
  wheel.start();
  await waitFor(() => members.every((m) => m.visits.length >= 2), 'visits', 60_000);
  wheel.stop();
  expect(members.map((m) => m.visits[0])).toEqual(members.map(() => members[0]!.visits[0]));
});
