import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MAX_PICKS_PER_WINDOW,
  PICK_TTL_MS,
  PickRegistry,
} from '../../../electron/main/attachment-picks.ts';
import { givesBackPicks, sendPickedFiles } from '../../../electron/main/pick-calls.ts';
import { MAX_PICKED_MEDIA_BYTES } from '../../../shared/ipc/attachment-picks.ts';
import { methods } from '../../../shared/ipc/contract.ts';
import { tempDir } from '../../support/profiles.ts';
import { rejectedCode, thrownCode } from '../../support/errors.ts';

// The Attach button's token table in main (electron/main/attachment-picks.ts),
// over real files: what the renderer learns of a pick (never a path), and
// every way a token can be misused — forged, unknown, expired, reused, named
// twice, from another window or from an earlier run of the app.

const WINDOW = 1;
const OTHER_WINDOW = 2;

/** Real files in a fresh folder: a small "image" (bytes only: main never decodes), a document. */
function files() {
  const dir = tempDir('sotto-picks-');
  const image = join(dir, 'summit.png');
  const doc = join(dir, 'route plan.pdf');
  writeFileSync(image, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
  writeFileSync(doc, 'route plan: north ridge, then the lake');
  return { dir, image, doc };
}

/** A send the core accepted: the tokens reserved, then used up. */
function sent(picks: PickRegistry, owner: number, tokens: string[]) {
  const paths = picks.reserve(owner, tokens);
  picks.settle(tokens, true);
  return paths;
}

/** A registry on a clock the test moves. */
function registry() {
  const clock = { now: 1_000_000 };
  return { picks: new PickRegistry(() => clock.now), clock };
}

describe('picking files', () => {
  it('answers one opaque token per file with its name, size and type, and never the path', async () => {
    const { dir, image, doc } = files();
    const { picks } = registry();
    const views = await picks.add(WINDOW, [image, doc]);
    expect(
      views.map(({ name, size, contentType, measurable }) => [name, size, contentType, measurable]),
    ).toEqual([
      ['summit.png', 16, 'image/png', true],
      ['route plan.pdf', 38, 'application/pdf', false],
    ]);
    expect(new Set(views.map((v) => v.token)).size).toBe(2);
    expect(JSON.stringify(views)).not.toContain(dir);
    // The contract's output schema is strict: a path field could not cross.
    expect(methods['attachments:pick'].output.safeParse(views).success).toBe(true);
    expect(
      methods['attachments:pick'].output.safeParse([{ ...views[0], path: image }]).success,
    ).toBe(false);
  });

  it('refuses more files than a message carries, a folder, and a missing file', async () => {
    const { dir, image } = files();
    const { picks } = registry();
    expect(
      await rejectedCode(() =>
        picks.add(
          WINDOW,
          Array.from({ length: 11 }, () => image),
        ),
      ),
    ).toBe('INVALID_INPUT');
    mkdirSync(join(dir, 'folder'));
    expect(await rejectedCode(() => picks.add(WINDOW, [join(dir, 'folder')]))).toBe(
      'INVALID_INPUT',
    );
    expect(await rejectedCode(() => picks.add(WINDOW, [join(dir, 'gone.png')]))).toBe(
      'INVALID_INPUT',
    );
    expect(picks.size).toBe(0);
  });

  it('an image or a video over the measuring cap is picked but not measurable, and its bytes are refused', async () => {
    const { dir } = files();
    const big = join(dir, 'big.jpg');
    const long = join(dir, 'long.webm');
    writeFileSync(big, Buffer.alloc(MAX_PICKED_MEDIA_BYTES + 1));
    writeFileSync(long, Buffer.alloc(MAX_PICKED_MEDIA_BYTES + 1));
    const { picks } = registry();
    const views = await picks.add(WINDOW, [big, long]);
    expect(views.map((v) => v.measurable)).toEqual([false, false]);
    for (const view of views)
      expect(await rejectedCode(() => picks.bytes(WINDOW, view.token))).toBe('INVALID_INPUT');
  });

  it('a video of a type the renderer plays is measurable, one it does not (or audio) is not', async () => {
    const { dir } = files();
    const clip = join(dir, 'clip.webm');
    const movie = join(dir, 'movie.mp4');
    const song = join(dir, 'song.mp3');
    const odd = join(dir, 'clip.mkv');
    for (const path of [clip, movie, song, odd])
      writeFileSync(path, Buffer.from('1a45dfa3', 'hex'));
    const { picks } = registry();
    const views = await picks.add(WINDOW, [clip, movie, song, odd]);
    expect(views.map((v) => [v.contentType, v.measurable])).toEqual([
      ['video/webm', true],
      ['video/mp4', true],
      ['audio/mpeg', false],
      ['application/octet-stream', false],
    ]);
    expect(Buffer.from(await picks.bytes(WINDOW, views[0]!.token)).toString('hex')).toBe(
      '1a45dfa3',
    );
    expect(await rejectedCode(() => picks.bytes(WINDOW, views[2]!.token))).toBe('INVALID_INPUT');
  });

  it('keeps at most MAX_PICKS_PER_WINDOW tokens per window, forgetting the oldest', async () => {
    const { doc } = files();
    const { picks } = registry();
    const first = await picks.add(WINDOW, [doc]);
    for (let i = 0; i < MAX_PICKS_PER_WINDOW; i++) await picks.add(WINDOW, [doc]);
    expect(picks.size).toBe(MAX_PICKS_PER_WINDOW);
    expect(thrownCode(() => sent(picks, WINDOW, [first[0]!.token]))).toBe(
      'ATTACHMENT_PICK_EXPIRED',
    );
  });
});

describe('reading a picked image to measure it', () => {
  it('gives the owner the exact bytes and leaves the token usable for the send', async () => {
    const { image } = files();
    const { picks } = registry();
    const [view] = await picks.add(WINDOW, [image]);
    const bytes = await picks.bytes(WINDOW, view!.token);
    expect(Buffer.from(bytes).toString('hex')).toBe('89504e470d0a1a0a0000000d49484452');
    expect(sent(picks, WINDOW, [view!.token])).toEqual([{ path: image }]);
  });

  it('refuses a document, another window, and a file that shrank or grew since the pick', async () => {
    const { image, doc } = files();
    const { picks } = registry();
    const [img, pdf] = await picks.add(WINDOW, [image, doc]);
    expect(await rejectedCode(() => picks.bytes(WINDOW, pdf!.token))).toBe('INVALID_INPUT');
    expect(await rejectedCode(() => picks.bytes(OTHER_WINDOW, img!.token))).toBe(
      'ATTACHMENT_PICK_EXPIRED',
    );
    writeFileSync(image, Buffer.alloc(4));
    expect(await rejectedCode(() => picks.bytes(WINDOW, img!.token))).toBe(
      'ATTACHMENT_PICK_EXPIRED',
    );
    writeFileSync(image, 'replaced behind the user’s back');
    expect(await rejectedCode(() => picks.bytes(WINDOW, img!.token))).toBe(
      'ATTACHMENT_PICK_EXPIRED',
    );
  });
});

describe('using tokens for a send', () => {
  it('a token is used up by the send that names it: a second send is refused', async () => {
    const { image, doc } = files();
    const { picks } = registry();
    const views = await picks.add(WINDOW, [image, doc]);
    const tokens = views.map((v) => v.token);
    expect(sent(picks, WINDOW, tokens)).toEqual([{ path: image }, { path: doc }]);
    expect(thrownCode(() => sent(picks, WINDOW, [tokens[0]!]))).toBe('ATTACHMENT_PICK_EXPIRED');
    expect(await rejectedCode(() => picks.bytes(WINDOW, tokens[0]!))).toBe(
      'ATTACHMENT_PICK_EXPIRED',
    );
    expect(picks.size).toBe(0);
  });

  it('a send the core refused gives its tokens back; while one runs, its tokens are refused to any other call', async () => {
    const { image } = files();
    const { picks } = registry();
    const [view] = await picks.add(WINDOW, [image]);
    const tokens = [view!.token];
    expect(picks.reserve(WINDOW, tokens)).toEqual([{ path: image }]);
    expect(thrownCode(() => picks.reserve(WINDOW, tokens))).toBe('ATTACHMENT_PICK_EXPIRED');
    expect(await rejectedCode(() => picks.bytes(WINDOW, view!.token))).toBe(
      'ATTACHMENT_PICK_EXPIRED',
    );
    picks.settle(tokens, false); // e.g. CONTACT_BLOCKED: the tray stays sendable
    expect(sent(picks, WINDOW, tokens)).toEqual([{ path: image }]);
    expect(thrownCode(() => picks.reserve(WINDOW, tokens))).toBe('ATTACHMENT_PICK_EXPIRED');
  });

  it('a forged token, or one named twice, refuses the whole send and uses up none of the others', async () => {
    const { image } = files();
    const { picks } = registry();
    const [view] = await picks.add(WINDOW, [image]);
    const forged = 'A'.repeat(43);
    expect(thrownCode(() => sent(picks, WINDOW, [view!.token, forged]))).toBe(
      'ATTACHMENT_PICK_EXPIRED',
    );
    expect(thrownCode(() => sent(picks, WINDOW, [view!.token, view!.token]))).toBe(
      'ATTACHMENT_PICK_EXPIRED',
    );
    expect(sent(picks, WINDOW, [view!.token])).toEqual([{ path: image }]);
  });

  it('another window cannot use a token, and its attempt does not use it up', async () => {
    const { image } = files();
    const { picks } = registry();
    const [view] = await picks.add(WINDOW, [image]);
    expect(thrownCode(() => sent(picks, OTHER_WINDOW, [view!.token]))).toBe(
      'ATTACHMENT_PICK_EXPIRED',
    );
    expect(sent(picks, WINDOW, [view!.token])).toEqual([{ path: image }]);
  });

  it('a token expires after PICK_TTL_MS, and is forgotten with its window', async () => {
    const { image, doc } = files();
    const { picks, clock } = registry();
    const [img] = await picks.add(WINDOW, [image]);
    clock.now += PICK_TTL_MS - 1;
    const [pdf] = await picks.add(WINDOW, [doc]);
    clock.now += 1;
    expect(thrownCode(() => sent(picks, WINDOW, [img!.token]))).toBe('ATTACHMENT_PICK_EXPIRED');
    picks.forget(WINDOW);
    expect(thrownCode(() => sent(picks, WINDOW, [pdf!.token]))).toBe('ATTACHMENT_PICK_EXPIRED');
  });

  it('locking the app forgets every pick', async () => {
    const { image } = files();
    const { picks } = registry();
    const [view] = await picks.add(WINDOW, [image]);
    await picks.add(OTHER_WINDOW, [image]);
    picks.clear();
    expect(picks.size).toBe(0);
    expect(thrownCode(() => sent(picks, WINDOW, [view!.token]))).toBe('ATTACHMENT_PICK_EXPIRED');
  });

  it('a token from an earlier run of the app (another table) is unknown', async () => {
    const { image } = files();
    const [view] = await registry().picks.add(WINDOW, [image]);
    const restarted = registry().picks;
    expect(thrownCode(() => sent(restarted, WINDOW, [view!.token]))).toBe(
      'ATTACHMENT_PICK_EXPIRED',
    );
  });
});

describe('settling a send: only a known refusal gives the tokens back', () => {
  const input = (token: string) => ({ conversationId: 1, caption: '', files: [{ token }] });

  it('the rule: closed refusals give back; success and INTERNAL (unknown outcome) use up', () => {
    expect(givesBackPicks({ ok: false, code: 'CONTACT_BLOCKED' })).toBe(true);
    expect(givesBackPicks({ ok: false, code: 'PROFILE_LOCKED' })).toBe(true);
    expect(givesBackPicks({ ok: false, code: 'INTERNAL' })).toBe(false);
    expect(givesBackPicks({ ok: true, value: {} })).toBe(false);
  });

  it('a send that answers INTERNAL or throws uses its token up; a refusal keeps it', async () => {
    const { image } = files();
    const { picks } = registry();
    const refuse = () => Promise.resolve({ ok: false as const, code: 'IDENTITY_CHANGED' as const });
    const [view] = await picks.add(WINDOW, [image]);
    const token = view!.token;
    expect(await sendPickedFiles(input(token), WINDOW, picks, refuse)).toEqual({
      ok: false,
      code: 'IDENTITY_CHANGED',
    });
    const internal = () => Promise.resolve({ ok: false as const, code: 'INTERNAL' as const });
    expect(await sendPickedFiles(input(token), WINDOW, picks, internal)).toEqual({
      ok: false,
      code: 'INTERNAL',
    });
    expect(await sendPickedFiles(input(token), WINDOW, picks, refuse)).toEqual({
      ok: false,
      code: 'ATTACHMENT_PICK_EXPIRED',
    });
    const [other] = await picks.add(WINDOW, [image]);
    const broken = () => Promise.reject(new Error('the bridge broke'));
    await expect(sendPickedFiles(input(other!.token), WINDOW, picks, broken)).rejects.toThrow(
      'the bridge broke',
    );
    expect(picks.size).toBe(0);
  });
});
