// While a history list moves to a place it was asked to show (its end on
// open, a search hit), the rows it renders on the way (first at the old
// offset: the top, for a window just loaded) must not start loading their
// images or videos: lazy loading requests whatever intersects at a frame,
// and those rows are gone a frame later. The list provides a flag its
// AttachmentItems read; outside a history (tests, other screens) nothing is
// held.
import type { InjectionKey, Ref } from 'vue';

/** True while the history around an AttachmentItem is moving to its target. */
export const MEDIA_HELD: InjectionKey<Readonly<Ref<boolean>>> = Symbol('media held');

/** Frames a move may take before media are let go anyway (a list that keeps changing). */
export const MAX_MOVE_FRAMES = 30;

const nextFrame = () => new Promise<void>((done) => requestAnimationFrame(() => done()));

/**
 * Resolves once `el` has kept its scroll offset and height for two frames in
 * a row (the virtualizer has landed and measured), or after MAX_MOVE_FRAMES.
 */
export async function scrollerSettled(el: HTMLElement): Promise<void> {
  let last = '';
  let same = 0;
  for (let i = 0; i < MAX_MOVE_FRAMES && same < 2; i++) {
    await nextFrame();
    const now = `${el.scrollTop}/${el.scrollHeight}`;
    same = now === last ? same + 1 : 0;
    last = now;
  }
}
