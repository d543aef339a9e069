import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { frameTime, measureVideo } from '../../renderer/src/attachment-video.ts';

// Measuring a video the user sends (renderer/src/attachment-video.ts). happy-dom
// decodes no media and draws no canvas, so the <video> here is a stand-in that
// plays the element's events as Chromium does (loadeddata, seeked, error) and
// the canvas records what is drawn; the real decoder is the Chromium e2e's
// (tests/e2e/video-previews.test.ts). What these pin: where the frame is
// taken, that hostile sizes give no visual or a clamped canvas, and that a
// stall or a failure never holds the file back (the composer's side is in
// components/attachments.test.ts).

type Meta = { width: number; height: number; duration: number };

/** A <video> that answers with `meta` ('plays'), fails to decode ('errors') or never answers ('stalls'). */
function standIn(meta: Meta, behaviour: 'plays' | 'errors' | 'stalls') {
  const video = document.createElement('video');
  const seeks: number[] = [];
  const fire = (name: string) => queueMicrotask(() => video.dispatchEvent(new Event(name)));
  Object.defineProperties(video, {
    videoWidth: { get: () => meta.width },
    videoHeight: { get: () => meta.height },
    duration: { get: () => meta.duration },
    currentTime: {
      get: () => seeks.at(-1) ?? 0,
      set: (t: number) => {
        seeks.push(t);
        if (behaviour === 'plays') fire('seeked');
      },
    },
    src: {
      get: () => video.getAttribute('src') ?? '',
      set: (url: string) => {
        video.setAttribute('src', url);
        if (behaviour === 'plays') fire('loadeddata');
        if (behaviour === 'errors') fire('error');
      },
    },
  });
  return { video, seeks, createVideo: () => video };
}

const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
let draws: { source: unknown; canvas: [number, number]; size: [number, number] }[];

beforeEach(() => {
  draws = [];
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(function (
    this: HTMLCanvasElement,
  ) {
    const size = (): [number, number] => [this.width, this.height];
    return {
      drawImage: (source: unknown, _x: number, _y: number, w: number, h: number) =>
        draws.push({ source, canvas: size(), size: [w, h] }),
    } as unknown as CanvasRenderingContext2D;
  } as never);
  vi.spyOn(HTMLCanvasElement.prototype, 'toBlob').mockImplementation((done) =>
    done(new Blob([JPEG], { type: 'image/jpeg' })),
  );
});
afterEach(() => vi.restoreAllMocks());

const webm = () => new File([new Uint8Array(64)], 'clip.webm', { type: 'video/webm' });

describe('the poster frame of a video the user sends', () => {
  it('is taken 10 % in, at most 1 s, and gives the size and a 16-pixel JPEG preview', async () => {
    const five = standIn({ width: 640, height: 360, duration: 5 }, 'plays');
    const visual = await measureVideo(webm(), { createVideo: five.createVideo });
    expect(five.seeks).toEqual([0.5]);
    expect(visual).toEqual({
      width: 640,
      height: 360,
      preview: btoa('\xff\xd8\xff\xe0\x01\x02\x03'),
    });
    expect(draws).toEqual([{ source: five.video, canvas: [16, 9], size: [16, 9] }]);
    // The element lets go of the file: no source left.
    expect(five.video.getAttribute('src')).toBeNull();

    const long = standIn({ width: 1920, height: 1080, duration: 3_600 }, 'plays');
    await measureVideo(webm(), { createVideo: long.createVideo });
    expect(long.seeks).toEqual([1]);
  });

  it('with no stated duration (MediaRecorder WebM: Infinity) or a hostile one, the first frame is drawn without a seek', async () => {
    expect([Infinity, Number.NaN, -3, 0].map(frameTime)).toEqual([0, 0, 0, 0]);
    const live = standIn({ width: 160, height: 120, duration: Infinity }, 'plays');
    const visual = await measureVideo(webm(), { createVideo: live.createVideo });
    expect(live.seeks).toEqual([]);
    expect(visual).toMatchObject({ width: 160, height: 120 });
  });

  it.each([
    ['zero size', 0, 0],
    ['a width over the pointer limit', 70_000, 10],
    ['a height over the pointer limit', 10, 65_536],
  ])('with %s gives no visual and draws nothing', async (_, width, height) => {
    const odd = standIn({ width, height, duration: 2 }, 'plays');
    expect(await measureVideo(webm(), { createVideo: odd.createVideo })).toBeUndefined();
    expect(draws).toEqual([]);
  });

  it('a huge but legal frame is drawn on a canvas of at most 16 pixels a side', async () => {
    const wide = standIn({ width: 65_535, height: 1, duration: 2 }, 'plays');
    const visual = await measureVideo(webm(), { createVideo: wide.createVideo });
    expect(visual).toMatchObject({ width: 65_535, height: 1 });
    expect(draws.map((d) => d.canvas)).toEqual([[16, 1]]);
  });

  it('an undecodable file gives no visual at once', async () => {
    const broken = standIn({ width: 640, height: 360, duration: 5 }, 'errors');
    const started = performance.now();
    const visual = await measureVideo(webm(), {
      createVideo: broken.createVideo,
      timeoutMs: 60_000,
    });
    expect(visual).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(30_000);
  });

  it('a decoder that never answers is given up after the timeout, and the object URL is revoked', async () => {
    const revoked = vi.spyOn(URL, 'revokeObjectURL');
    const stalled = standIn({ width: 640, height: 360, duration: 5 }, 'stalls');
    const visual = await measureVideo(webm(), { createVideo: stalled.createVideo, timeoutMs: 50 });
    expect(visual).toBeUndefined();
    expect(revoked).toHaveBeenCalledTimes(1);
    expect(stalled.video.getAttribute('src')).toBeNull();
  });

  it('a type the app does not play, or not a video, is never put in an element', async () => {
    const create = vi.fn(() => document.createElement('video'));
    for (const type of ['video/x-matroska', 'video/quicktime', 'audio/ogg', 'text/plain'])
      expect(
        await measureVideo(new File([], 'x', { type }), { createVideo: create }),
      ).toBeUndefined();
    expect(create).not.toHaveBeenCalled();
  });
});
