import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PickRegistry } from '../../../electron/main/attachment-picks.ts';
import { sendPickedFiles } from '../../../electron/main/pick-calls.ts';
import { lostPicks } from '../../../renderer/src/pick-outcome.ts';
import { ERROR_MESSAGES, type ErrorCode } from '../../../shared/errors.ts';
import { tempDir } from '../../support/profiles.ts';

// The renderer's tray (renderer/src/pick-outcome.ts) and main's token table
// (pick-calls.ts) must agree on every answer a send can get: after a failed
// `attachments:send-files`, the tray keeps its picked files exactly when main
// gave their tokens back, so a kept file always sends and a file main used
// up never stays to fail with ATTACHMENT_PICK_EXPIRED. Main's real
// sendPickedFiles over a real PickRegistry and a real file; the core's answer
// is each code in turn.

const WINDOW = 1;
const input = (token: string) => ({ conversationId: 1, caption: '', files: [{ token }] });

/** Whether the token of a send answered with `code` still sends afterwards. */
async function stillSends(code: ErrorCode): Promise<boolean> {
  const file = join(tempDir('sotto-tray-rule-'), 'plan.pdf');
  writeFileSync(file, 'the plan');
  const picks = new PickRegistry();
  const [view] = await picks.add(WINDOW, [file]);
  const token = view!.token;
  const refused = () => Promise.resolve({ ok: false as const, code });
  expect(await sendPickedFiles(input(token), WINDOW, picks, refused)).toEqual({ ok: false, code });
  const accepted = () => Promise.resolve({ ok: true as const, value: {} });
  const again = await sendPickedFiles(input(token), WINDOW, picks, accepted);
  return again.ok;
}

describe('the tray and main agree on a failed send’s picked files', () => {
  const codes = (Object.keys(ERROR_MESSAGES) as ErrorCode[]).filter(
    (code) => code !== 'ATTACHMENT_PICK_EXPIRED',
  );

  it.each(codes)('%s: the tray keeps the file exactly when its token still sends', async (code) => {
    expect(lostPicks(code) === null).toBe(await stillSends(code));
  });

  it('a token main refuses as expired is dropped from the tray (it would fail again)', async () => {
    const picks = new PickRegistry();
    const accepted = () => Promise.resolve({ ok: true as const, value: {} });
    const forged = 'A'.repeat(43);
    const answer = await sendPickedFiles(input(forged), WINDOW, picks, accepted);
    expect(answer).toEqual({ ok: false, code: 'ATTACHMENT_PICK_EXPIRED' });
    expect(lostPicks('ATTACHMENT_PICK_EXPIRED')).toBe('expired');
    expect(await sendPickedFiles(input(forged), WINDOW, picks, accepted)).toEqual(answer);
  });

  it('a send that throws (no answer at all) uses the token up; the renderer sees it as INTERNAL', async () => {
    const file = join(tempDir('sotto-tray-rule-'), 'plan.pdf');
    writeFileSync(file, 'the plan');
    const picks = new PickRegistry();
    const [view] = await picks.add(WINDOW, [file]);
    const broken = () => Promise.reject(new Error('the worker died'));
    await expect(sendPickedFiles(input(view!.token), WINDOW, picks, broken)).rejects.toThrow();
    expect(picks.size).toBe(0);
    expect(lostPicks('INTERNAL')).toBe('unknownOutcome');
  });
});
