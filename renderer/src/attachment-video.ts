import { mediaKindOf } from '../../shared/ipc/attachment-url.ts';
import { fitsPointer, type MeasuredVisual, previewOf } from './attachment-visual.ts';

// Width, height and a tiny preview of a video the user is sending, so the
// receiver sees a poster before downloading it. The user's own file is loaded
// into a detached <video> here in the sandboxed renderer (never in main or
// the core), one frame is drawn to a 16-pixel canvas and the element is
// emptied. Anything that goes wrong (a type Chromium does not play, a file
// that does not decode, zero or absurd dimensions, a decoder that stalls)
// means no visual: the video is then sent as it was before, without a
// preview, and the send never waits more than VIDEO_MEASURE_TIMEOUT_MS.

/** The longest the tray waits for a video's frame before taking the file without a preview. */
export const VIDEO_MEASURE_TIMEOUT_MS = 3_000;

/**
 * Where the poster frame is taken, in seconds: 10 % in, at most 1 s (a first
 * frame is often black). A duration the file does not state (MediaRecorder's
 * WebM says Infinity) or a hostile one (NaN, negative) takes the first frame.
 */
export function frameTime(duration: number): number {
  return Number.isFinite(duration) && duration > 0 ? Math.min(1, duration / 10) : 0;
}

/** How measureVideo gets its element and its budget (tests give a stand-in for the decoder happy-dom lacks). */
export interface VideoMeasureOptions {
  readonly timeoutMs?: number;
  readonly createVideo?: () => HTMLVideoElement;
}

/** The size and a frame's preview of a video file, or undefined when it cannot be had in time. */
export async function measureVideo(
  file: Blob,
  options: VideoMeasureOptions = {},
): Promise<MeasuredVisual | undefined> {
  if (mediaKindOf(file.type) !== 'video') return undefined;
  const video = (options.createVideo ?? (() => document.createElement('video')))();
  const url = URL.createObjectURL(file);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), options.timeoutMs ?? VIDEO_MEASURE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([frameOf(video, url), timedOut]);
  } finally {
    clearTimeout(timer);
    // Empty the element so the decoder lets go of the file at once.
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  }
}

async function frameOf(video: HTMLVideoElement, url: string): Promise<MeasuredVisual | undefined> {
  try {
    video.muted = true;
    video.preload = 'auto';
    const loaded = next(video, 'loadeddata');
    video.src = url;
    await loaded;
    const { videoWidth: width, videoHeight: height } = video;
    if (!fitsPointer(width, height)) return undefined;
    const at = frameTime(video.duration);
    if (at > 0) {
      const seeked = next(video, 'seeked');
      video.currentTime = at;
      await seeked;
    }
    const preview = await previewOf(video, width, height);
    return { width, height, ...(preview ? { preview } : {}) };
  } catch {
    return undefined; // not decodable here: sent without a preview
  }
}

/** The element's next `name` event; its error event (or an emptied element) rejects. */
function next(video: HTMLVideoElement, name: 'loadeddata' | 'seeked'): Promise<void> {
  return new Promise((resolve, reject) => {
    video.addEventListener(name, () => resolve(), { once: true });
    video.addEventListener('error', () => reject(new Error('video error')), { once: true });
  });
}
