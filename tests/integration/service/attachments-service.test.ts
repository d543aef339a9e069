import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_DROPPED_FILE_BYTES } from '../../../shared/ipc/attachments.ts';
import { methods } from '../../../shared/ipc/contract.ts';
import { profileInvite } from '../../../electron/core/profile/invite.ts';
import { testBytes, testFile } from '../../support/attachment-relays.ts';
import { rejectedCode } from '../../support/errors.ts';
import { person } from '../../support/group-world.ts';
import { tempDir } from '../../support/profiles.ts';
import { callService } from '../../support/service-call.ts';
import { SERVICE_PASSPHRASE, useOfflineServices } from '../../support/offline-service.ts';

// The `attachments:*` methods over a real core (what the app's attachment UI
// will call): inputs parsed by the contract's schemas, files chosen "in main".

const startService = useOfflineServices();

const call = callService;

describe('attachments through the service', () => {
  it('sends the chosen file, lists it, saves it to the chosen file; refuses calls without a file or with a stranger id', async () => {
    const relay = join(tempDir(), 'relay');
    const bob = await person('Bob', relay);
    const service = await startService(relay);
    await call(service, 'profile:invite');
    const contact = await call(service, 'contacts:add', { invite: profileInvite(bob.profile) });
    const source = testFile(tempDir(), 'plan.pdf', 20_000);
    const sent = await call(
      service,
      'attachments:send',
      { conversationId: contact.conversationId, caption: 'the plan' },
      { file: source },
    );
    expect(sent.attachments).toMatchObject([
      { fileName: 'plan.pdf', size: 20_000, outgoing: true, contentType: 'application/pdf' },
    ]);
    const listed = await call(service, 'attachments:list', {
      conversationId: contact.conversationId,
    });
    expect(listed.map((a) => a.id)).toEqual(sent.attachments.map((a) => a.id));
    // No key, digest, blob id or path crosses the boundary.
    expect(JSON.stringify(listed)).not.toMatch(/key|digest|blob|local|temp|token/i);
    const out = join(tempDir(), 'copy.pdf');
    expect(
      await call(service, 'attachments:save', { attachmentId: listed[0]!.id }, { file: out }),
    ).toEqual({ size: 20_000 });
    expect(readFileSync(out).equals(testBytes(20_000, 'plan.pdf'))).toBe(true);

    expect(
      await rejectedCode(() =>
        call(service, 'attachments:send', { conversationId: contact.conversationId, caption: '' }),
      ),
    ).toBe('INVALID_INPUT');
    expect(
      await rejectedCode(() =>
        call(service, 'attachments:save', { attachmentId: 999 }, { file: out }),
      ),
    ).toBe('UNKNOWN_ATTACHMENT');
    expect(() =>
      methods['attachments:list'].input.parse({ conversationId: 1, path: '/etc/passwd' }),
    ).toThrow();
    expect(() => methods['attachments:save'].input.parse({ attachmentId: 1, key: 'x' })).toThrow();
  });

  it('sends dropped bytes with the renderer-measured size and preview, and mediaSource finds them only while unlocked', async () => {
    const relay = join(tempDir(), 'relay');
    const bob = await person('Bob', relay);
    const service = await startService(relay);
    const passphrase = SERVICE_PASSPHRASE;
    const contact = await call(service, 'contacts:add', { invite: profileInvite(bob.profile) });
    const png = testBytes(5_000, 'photo.png');
    // The contract looks at a preview's JPEG signature only (nothing outside the renderer decodes it).
    const preview = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(297, 7)]).toString(
      'base64',
    );
    const sent = await call(service, 'attachments:send-bytes', {
      conversationId: contact.conversationId,
      caption: 'look',
      files: [
        {
          name: 'photo.png',
          bytes: new Uint8Array(png).buffer,
          visual: { width: 640, height: 480, preview },
        },
        // A video's frame, measured the same way: kept, so the receiver has a poster.
        {
          name: 'clip.webm',
          bytes: new Uint8Array(900).buffer,
          visual: { width: 320, height: 180, preview },
        },
        // A visual on a document or on audio is not an image's or a video's: dropped.
        { name: 'notes.txt', bytes: new Uint8Array(10).buffer, visual: { width: 1, height: 1 } },
        {
          name: 'song.mp3',
          bytes: new Uint8Array(10).buffer,
          visual: { width: 1, height: 1, preview },
        },
      ],
    });
    const none = { width: null, height: null, preview: null };
    expect(sent.attachments).toMatchObject([
      { contentType: 'image/png', fileName: null, width: 640, height: 480, preview, size: 5_000 },
      { contentType: 'video/webm', fileName: null, width: 320, height: 180, preview, size: 900 },
      { contentType: 'text/plain', fileName: 'notes.txt', ...none },
      { contentType: 'audio/mpeg', fileName: 'song.mp3', ...none },
    ]);
    const id = sent.attachments[0]!.id;
    expect(service.mediaSource?.(id)).toMatchObject({ size: 5_000, contentType: 'image/png' });
    expect(service.mediaSource?.(999_999)).toBeUndefined();
    await call(service, 'profile:lock', {});
    expect(service.mediaSource?.(id)).toBeUndefined();
    await call(service, 'profile:unlock', { passphrase });
    expect(service.mediaSource?.(id)).toBeDefined();
  });

  it('sends picked files (paths main resolved from tokens) and dropped bytes in one message; refuses tokens main did not resolve', async () => {
    const relay = join(tempDir(), 'relay');
    const bob = await person('Bob', relay);
    const service = await startService(relay);
    const contact = await call(service, 'contacts:add', { invite: profileInvite(bob.profile) });
    const dir = tempDir();
    const photo = testFile(dir, 'photo.png', 3_000);
    const plan = testFile(dir, 'plan.pdf', 2_000);
    const preview = '/9j/4AAQ';
    const input = {
      conversationId: contact.conversationId,
      caption: 'both',
      files: [
        { token: 'P'.repeat(43), visual: { width: 30, height: 20, preview } },
        { name: 'dropped.txt', bytes: new Uint8Array(5).buffer },
        { token: 'Q'.repeat(43) },
      ],
    };
    // Without main's resolution (no context.picked, or too few or too many paths) nothing is sent.
    for (const picked of [
      undefined,
      [{ path: photo }],
      [{ path: photo }, { path: plan }, { path: plan }],
    ])
      expect(
        await rejectedCode(() =>
          call(service, 'attachments:send-files', input, picked ? { picked } : {}),
        ),
      ).toBe('INVALID_INPUT');
    const sent = await call(service, 'attachments:send-files', input, {
      picked: [{ path: photo }, { path: plan }],
    });
    expect(sent.attachments).toMatchObject([
      { contentType: 'image/png', size: 3_000, width: 30, height: 20, preview },
      { fileName: 'dropped.txt', size: 5 },
      { fileName: 'plan.pdf', size: 2_000, width: null, preview: null },
    ]);
    const listed = await call(service, 'attachments:list', {
      conversationId: contact.conversationId,
    });
    expect(listed.map((a) => a.messageId)).toEqual([
      sent.messageId,
      sent.messageId,
      sent.messageId,
    ]);
    expect(JSON.stringify(listed)).not.toContain(dir);
  });

  it('refuses hostile dropped files at the contract: oversized, path-like names, bad previews, too many', () => {
    const parse = (file: Record<string, unknown>, count = 1) =>
      methods['attachments:send-bytes'].input.safeParse({
        conversationId: 1,
        caption: '',
        files: Array.from({ length: count }, () => ({
          name: 'a.png',
          bytes: new ArrayBuffer(4),
          ...file,
        })),
      }).success;
    expect(parse({})).toBe(true);
    expect(parse({ bytes: new ArrayBuffer(MAX_DROPPED_FILE_BYTES + 1) })).toBe(false);
    for (const name of ['../x.png', 'a/b.png', 'a\\b.png', 'a\u0000.png', '', 'x'.repeat(256)])
      expect(parse({ name }), JSON.stringify(name)).toBe(false);
    expect(parse({ bytes: 'AAAA' })).toBe(false);
    expect(parse({ bytes: [1, 2, 3] })).toBe(false);
    expect(parse({ path: '/etc/passwd' })).toBe(false);
    expect(parse({ visual: { width: 0, height: 5 } })).toBe(false);
    expect(parse({ visual: { width: 70_000, height: 5 } })).toBe(false);
    expect(parse({ visual: { width: 5 } })).toBe(false);
    expect(parse({ visual: { width: 5, height: 5, preview: 'not base64!' } })).toBe(false);
    expect(parse({ visual: { width: 5, height: 5, preview: 'A'.repeat(8_000) } })).toBe(false);
    expect(parse({ visual: { width: 5, height: 5, key: 'x' } })).toBe(false);
    // A preview that is not a JPEG (here a PNG's signature) is refused without decoding it.
    expect(parse({ visual: { width: 5, height: 5, preview: 'iVBORw0KGgo=' } })).toBe(false);
    expect(parse({ visual: { width: 5, height: 5, preview: '/9j/4AAQ' } })).toBe(true);
    expect(parse({}, 10)).toBe(true);
    expect(parse({}, 11)).toBe(false);
  });
});
