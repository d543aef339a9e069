import { MAX_DROPPED_FILE_BYTES } from '../../../shared/ipc/attachments.ts';
import { measureVideo } from '../attachment-video.ts';
import { measureImage } from '../attachment-visual.ts';
import { errorCodeOf } from '../bridge.ts';
import { type AttachmentTarget, useAttachmentsStore } from '../stores/attachments.ts';

/**
 * Putting files into a conversation's tray. Dropped or pasted: each is read
 * into memory (at most MAX_DROPPED_FILE_BYTES; bigger ones go through the
 * Attach button) and, if an image or a video, measured. Picked with the
 * Attach button: main answers with tokens, and an image's or video's bytes
 * are fetched by token only to be measured here, as a dropped one is
 * (docs/architecture.md). A file that cannot be measured joins the tray
 * without a visual; a video waits at most VIDEO_MEASURE_TIMEOUT_MS. The store's
 * `refused` names files that were too large, for the sentence the tray shows.
 */
export function useAttachmentDraft(target: () => AttachmentTarget) {
  const attachments = useAttachmentsStore();

  async function addFiles(files: Iterable<File>): Promise<void> {
    const tooLarge: string[] = [];
    for (const file of files) {
      if (file.size > MAX_DROPPED_FILE_BYTES) {
        tooLarge.push(file.name);
        continue;
      }
      const [bytes, visual] = await Promise.all([file.arrayBuffer(), measure(file)]);
      attachments.add(target(), {
        // A pasted image has no name of its own; the contract refuses separators and controls.
        // eslint-disable-next-line no-control-regex
        name: file.name.replace(/[/\\\u0000-\u001f\u007f]/g, '_').slice(0, 255) || 'image.png',
        size: file.size,
        bytes,
        ...(visual ? { visual } : {}),
      });
    }
    attachments.refused = tooLarge;
  }

  /** The Attach button: files picked in main's dialog join the tray (closing the dialog is no error). */
  async function pickFiles(): Promise<void> {
    let picked;
    try {
      picked = await attachments.pick();
    } catch (failure) {
      if (errorCodeOf(failure) === 'CANCELLED') return;
      throw failure;
    }
    for (const file of picked) {
      const visual = file.measurable
        ? await measurePicked(file.token, file.contentType)
        : undefined;
      const { name, size, token } = file;
      attachments.add(target(), { name, size, token, ...(visual ? { visual } : {}) });
    }
    attachments.refused = [];
  }

  /** The size and preview of a picked image or video; none if it cannot be read or decoded (it is sent as a plain file). */
  async function measurePicked(token: string, type: string) {
    const bytes = await attachments.pickedBytes(token).catch(() => undefined);
    return bytes ? measure(new Blob([bytes], { type })) : undefined;
  }

  /** Files dropped onto the conversation. */
  function onDrop(event: DragEvent): void {
    const files = event.dataTransfer?.files;
    if (!files || files.length === 0) return;
    event.preventDefault();
    void addFiles([...files]);
  }

  /** Accepts a drag that carries files (the drop is refused otherwise). */
  function onDragOver(event: DragEvent): void {
    if (event.dataTransfer?.types.includes('Files')) {
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    }
  }

  /** Pasted images (text pastes as usual). */
  function onPaste(event: ClipboardEvent): void {
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    void addFiles(files);
  }

  /** An image's or a video's visual (each measurer answers undefined for other types). */
  async function measure(file: Blob) {
    return file.type.startsWith('video/') ? measureVideo(file) : measureImage(file);
  }

  return { addFiles, pickFiles, onDrop, onDragOver, onPaste };
}
