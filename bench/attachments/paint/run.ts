// What the paint bench's child reports per open (paint/child.ts → ../paint.ts).

/**
 * One open: the page's paint times (ms from the click), and its attachment:
 * requests as the harness served them: the median ms main's module took to
 * answer one (the app's cost) and Playwright took to hand it to Chromium (the
 * harness's: Electron's protocol handler streams in process).
 */
export interface Run {
  readonly rows: number;
  readonly images: number;
  readonly requests: number;
  readonly answerMs: number;
  readonly fulfillMs: number;
}
