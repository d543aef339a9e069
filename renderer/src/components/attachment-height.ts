import type { AttachmentSummaryView } from '../../../shared/ipc/attachments.ts';
import { mediaKindOf } from '../../../shared/ipc/attachment-url.ts';

// What a message's files add to its row before anything has loaded, for the
// virtualized history's estimate: an image or video box is sized from the
// pointer (mediaBox: at most 320 × 480 px, at its aspect ratio), so the
// estimate can be close. With the 68 px text-row estimate alone, opening a
// conversation of images scrolled to an "end" far short of the real one and
// converged over many frames, showing (and loading) the top rows meanwhile.

/** Widest an inline image or video box is (px). */
const MEDIA_MAX_WIDTH = 320;
/** Tallest one is (px): a hostile 1 × 65,535 pointer must not make a page-high row. */
const MEDIA_MAX_HEIGHT = 480;
/** Narrowest and lowest one is (px): a 65,535 × 1 pointer still gets a visible strip. */
const MEDIA_MIN_SIDE = 32;

/**
 * The box (px) an image or video of the pointer's size gets before and after
 * it loads: scaled down to fit 320 × 480, never under 32 px a side (the
 * pointer's width and height are the sender's word, so any ratio is
 * possible; the picture is fitted inside with object-fit: contain).
 */
export function mediaBox(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, MEDIA_MAX_WIDTH / width, MEDIA_MAX_HEIGHT / height);
  return {
    width: Math.round(Math.min(MEDIA_MAX_WIDTH, Math.max(MEDIA_MIN_SIDE, width * scale))),
    height: Math.round(Math.min(MEDIA_MAX_HEIGHT, Math.max(MEDIA_MIN_SIDE, height * scale))),
  };
}
/** A file's card line (name, size, Save) and the gap after it (px). */
const CARD_PX = 30;
/** An audio player (px). */
const AUDIO_PX = 54;
/** A box whose pointer gave no size (the CSS min-height, px). */
const UNSIZED_PX = 64;

/** Estimated height (px) the files of one message add to its row before they load. */
export function attachmentsHeight(files: readonly AttachmentSummaryView[]): number {
  let height = 0;
  for (const file of files) {
    const kind = mediaKindOf(file.contentType);
    height += CARD_PX;
    if (kind === 'audio') height += AUDIO_PX;
    if (kind !== 'image' && kind !== 'video') continue;
    const { width, height: tall } = file;
    height += width && tall ? mediaBox(width, tall).height : UNSIZED_PX;
  }
  return height;
}

/**
 * The open conversation's files (the attachments store's `byMessage`) as
 * extra row heights by message id (1:1 or group: the store holds one
 * conversation), read once per change rather than through the store's
 * reactive lists for every row the virtualizer estimates.
 */
export function heightsByMessage(
  byMessage: Readonly<Record<string, readonly AttachmentSummaryView[]>>,
): ReadonlyMap<number, number> {
  const heights = new Map<number, number>();
  for (const files of Object.values(byMessage)) {
    const first = files[0];
    const id = first && (first.groupMessageId ?? first.messageId);
    if (id !== undefined && id !== null) heights.set(id, attachmentsHeight(files));
  }
  return heights;
}
