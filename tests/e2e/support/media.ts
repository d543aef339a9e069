import type { Page } from 'playwright-core';

// Real media files for the e2e tests, made by Chromium itself.

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
