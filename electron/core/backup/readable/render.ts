import type { ExportedFile } from './export-files.ts';

// Renderers for readable exports: each turns conversations and messages into
// text pieces that are written as they come (constant memory). Every piece of
// user content is escaped for its format.

/** A message as a readable export shows it. */
export interface ReadableMessage {
  readonly uuid: string;
  readonly outgoing: boolean;
  readonly senderName: string;
  readonly sentAt: number;
  readonly body: string;
  readonly status: string;
  /** Its attachments (HTML exports with files; empty otherwise). */
  readonly files?: readonly ExportedFile[];
}

/** A conversation heading: a contact's, or a group's (`accountId` is then the group id, `name` its title). */
export interface ReadableConversation {
  readonly accountId: string;
  readonly name: string;
  readonly group?: boolean;
}

/** What a document says about itself. */
export interface ReadableDocument {
  readonly ownName: string;
  readonly ownAccountId: string;
  readonly exportedAt: number;
  readonly from?: number;
  readonly to?: number;
}

/** One output format. */
export interface Renderer {
  begin(doc: ReadableDocument): string;
  conversation(c: ReadableConversation, first: boolean): string;
  message(m: ReadableMessage, first: boolean): string;
  endConversation(): string;
  end(): string;
}

export type ReadableFormat = 'html' | 'json' | 'md';

const iso = (ms: number) => new Date(ms).toISOString();
const stamp = (ms: number) => iso(ms).slice(0, 16).replace('T', ' ');

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Escapes text so Markdown shows it literally (no markup, no raw HTML). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()<>#+\-.!|~&]/g, (c) => `\\${c}`);
}

function rangeText(doc: ReadableDocument): string {
  if (doc.from === undefined && doc.to === undefined) return 'all messages';
  return `messages from ${doc.from === undefined ? 'the start' : stamp(doc.from)} to ${doc.to === undefined ? 'now' : stamp(doc.to)} (UTC)`;
}

const CSS = `body{font:15px/1.45 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f;background:#fff}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2.5rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
.meta{color:#666;font-size:.85rem}.m{margin:.5rem 0;padding:.45rem .7rem;border-radius:.6rem;background:#f1f1f4;max-width:85%}
.m.out{margin-left:auto;background:#dcebff}.m header{font-size:.78rem;color:#555}.m p{margin:.15rem 0 0;white-space:pre-wrap;overflow-wrap:anywhere}
@media (prefers-color-scheme:dark){body{background:#151517;color:#eee}.m{background:#26262b}.m.out{background:#1d3557}.m header,.meta{color:#aaa}}`;

/** A message's files: a link to each one written beside the page, the name alone for one not downloaded. */
function htmlFiles(files: readonly ExportedFile[]): string {
  if (files.length === 0) return '';
  const items = files.map((f) => {
    const label = `${escapeHtml(f.name)} <span class="meta">${escapeHtml(f.contentType)}, ${f.size} bytes</span>`;
    return f.href === null
      ? `<li>${label} <span class="meta">(not downloaded)</span></li>`
      : `<li><a href="${escapeHtml(f.href)}">${label}</a></li>`;
  });
  return `<ul class="files">${items.join('')}</ul>`;
}

const html: Renderer = {
  begin: (doc) =>
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>Sotto export — ${escapeHtml(doc.ownName)}</title><style>${CSS}</style></head><body>\n` +
    `<h1>Sotto conversations of ${escapeHtml(doc.ownName)}</h1>\n` +
    `<p class="meta">Exported ${escapeHtml(iso(doc.exportedAt))}; ${escapeHtml(rangeText(doc))}. Times are UTC.</p>\n`,
  conversation: (c) =>
    `<section>\n<h2>${escapeHtml(c.name)} <span class="meta">${c.group ? 'group ' : ''}${escapeHtml(c.accountId)}</span></h2>\n`,
  message: (m) =>
    `<article class="m${m.outgoing ? ' out' : ''}"><header>${escapeHtml(m.senderName)} · <time datetime="${escapeHtml(iso(m.sentAt))}">${escapeHtml(stamp(m.sentAt))}</time>` +
    `${m.outgoing ? ` · ${escapeHtml(m.status)}` : ''}</header><p>${escapeHtml(m.body)}</p>${htmlFiles(m.files ?? [])}</article>\n`,
  endConversation: () => '</section>\n',
  end: () => '</body></html>\n',
};

const markdown: Renderer = {
  begin: (doc) =>
    `# Sotto conversations of ${escapeMarkdown(doc.ownName)}\n\nExported ${iso(doc.exportedAt)}; ${escapeMarkdown(rangeText(doc))}. Times are UTC.\n`,
  conversation: (c) =>
    `\n## ${escapeMarkdown(c.name)} (${c.group ? 'group ' : ''}${c.accountId})\n\n`,
  message: (m) => {
    const quoted = escapeMarkdown(m.body)
      .split('\n')
      .map((line) => `> ${line}`)
      .join('\n');
    return `**${escapeMarkdown(m.senderName)}**, ${stamp(m.sentAt)}${m.outgoing ? ` (${m.status})` : ''}\n\n${quoted}\n\n`;
  },
  endConversation: () => '',
  end: () => '',
};

const json: Renderer = {
  begin: (doc) =>
    `{"format":"sotto-export","version":1,"exportedAt":${JSON.stringify(iso(doc.exportedAt))},` +
    `"account":${JSON.stringify({ accountId: doc.ownAccountId, name: doc.ownName })},` +
    `"from":${doc.from === undefined ? 'null' : JSON.stringify(iso(doc.from))},"to":${doc.to === undefined ? 'null' : JSON.stringify(iso(doc.to))},` +
    `"conversations":[`,
  conversation: (c, first) =>
    `${first ? '' : ','}\n{${
      c.group
        ? `"group":${JSON.stringify({ groupId: c.accountId, title: c.name })}`
        : `"contact":${JSON.stringify({ accountId: c.accountId, name: c.name })}`
    },"messages":[`,
  message: (m, first) =>
    `${first ? '' : ','}\n${JSON.stringify({
      id: m.uuid,
      sentAt: iso(m.sentAt),
      outgoing: m.outgoing,
      sender: m.senderName,
      status: m.status,
      body: m.body,
    })}`,
  endConversation: () => ']}',
  end: () => '\n]}\n',
};

/** The renderer for a format. */
export function rendererFor(format: ReadableFormat): Renderer {
  return format === 'html' ? html : format === 'md' ? markdown : json;
}
