import { ref, watch, type Ref } from 'vue';
import QRCode from 'qrcode';

/** Decodes base64 to bytes, or null if `text` is not base64. */
function base64Bytes(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * A QR code of `content` as a data: URL (the CSP allows data: images, and no
 * script or inline style is involved). `bytes: true` encodes base64 content as
 * the raw bytes it stands for (a safety number's scannable form).
 */
export function useQrCode(content: Ref<string | null>, options: { bytes?: boolean } = {}) {
  const dataUrl = ref<string | null>(null);
  const failed = ref(false);
  let seq = 0;

  watch(
    content,
    async (value) => {
      const mine = ++seq;
      dataUrl.value = null;
      failed.value = false;
      if (!value) return;
      const bytes = options.bytes ? base64Bytes(value) : null;
      const data = bytes ? [{ data: bytes, mode: 'byte' as const }] : value;
      try {
        const url = await QRCode.toDataURL(data, {
          errorCorrectionLevel: 'M',
          margin: 2,
          width: 232,
        });
        if (mine === seq) dataUrl.value = url;
      } catch {
        // No canvas (or content too long): the text form stays the way to share.
        if (mine === seq) failed.value = true;
      }
    },
    { immediate: true },
  );

  return { dataUrl, failed };
}
