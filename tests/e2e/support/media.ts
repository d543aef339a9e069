import type { Page } from 'playwright-core';

// Real media files for the e2e tests, made by Chromium itself, and a drop of
// files onto the open conversation as the file manager makes one.

/** A real PNG drawn by Chromium (a recognizable pattern), as bytes. */
export async function drawPng(
  page: Page,
  width: number,
  height: number,
  hue: number,
): Promise<Buffer> {
  const base64 = await page.evaluate(
    async ([w, h, hue]) => {
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const context = canvas.getContext('2d')!;
      for (let x = 0; x < w; x += 8) {
        context.fillStyle = `hsl(${hue + x} 70% 50%)`;
        context.fillRect(x, 0, 8, h);
      }
      const blob = await new Promise<Blob>((done) => canvas.toBlob((b) => done(b!), 'image/png'));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return btoa(binary);
    },
    [width, height, hue] as const,
  );
  return Buffer.from(base64, 'base64');
}

/** A short real WebM video, recorded by Chromium's MediaRecorder from a moving canvas. */
export async function recordWebm(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 120;
    const context = canvas.getContext('2d')!;
    const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: 'video/webm' });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (event) => chunks.push(event.data);
    const stopped = new Promise((done) => (recorder.onstop = done));
    recorder.start();
    // Frames until the recorder has seen 1.5 s of them (it timestamps by the clock).
    const start = performance.now();
    await new Promise<void>((done) => {
      const frame = () => {
        const t = performance.now() - start;
        context.fillStyle = `hsl(${Math.round(t / 5) % 360} 70% 50%)`;
        context.fillRect(0, 0, 160, 120);
        if (t < 1_500) requestAnimationFrame(frame);
        else done();
      };
      frame();
    });
    recorder.stop();
    await stopped;
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let binary = '';
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary);
  });
  return Buffer.from(base64, 'base64');
}

/** Drops files onto the open conversation, as a drag from the file manager does. */
export async function dropFiles(
  page: Page,
  files: { name: string; type: string; bytes: Buffer }[],
) {
  await page.evaluate(
    (list) => {
      const transfer = new DataTransfer();
      for (const f of list) {
        const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], f.name, { type: f.type }));
      }
      const view = document.querySelector('[data-testid="chat-view"]')!;
      view.dispatchEvent(
        new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }),
      );
      view.dispatchEvent(
        new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }),
      );
    },
    files.map((f) => ({ name: f.name, type: f.type, base64: f.bytes.toString('base64') })),
  );
}
