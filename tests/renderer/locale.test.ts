/// <reference types="vite/client" />
// All UI text lives in the locale file: every error code has a sentence, and
// no template carries literal words (they would escape translation).
import { describe, expect, it } from 'vitest';
import { parse, NodeTypes, type TemplateChildNode, type RootNode } from '@vue/compiler-dom';
import { ERROR_MESSAGES } from '../../shared/errors.ts';
import en from '../../renderer/src/locales/en.json';

const sources = import.meta.glob<string>('../../renderer/src/**/*.vue', {
  query: '?raw',
  import: 'default',
  eager: true,
});

function templateOf(source: string): string {
  const match = /<template>([\s\S]*)<\/template>\s*$/.exec(source);
  return match?.[1] ?? '';
}

function literalTexts(node: RootNode | TemplateChildNode, out: string[]): void {
  if (node.type === NodeTypes.TEXT && node.content.trim() !== '') out.push(node.content.trim());
  if ('children' in node && Array.isArray(node.children)) {
    for (const child of node.children as TemplateChildNode[]) literalTexts(child, out);
  }
  if (node.type === NodeTypes.ELEMENT) {
    for (const prop of node.props) {
      // Static aria-label/title/placeholder/alt would be untranslated words too.
      if (
        prop.type === NodeTypes.ATTRIBUTE &&
        ['aria-label', 'title', 'placeholder', 'alt'].includes(prop.name) &&
        prop.value
      ) {
        if (/[a-z]{2,}/i.test(prop.value.content) && !/^wss?:\/\/$/.test(prop.value.content))
          out.push(`${prop.name}="${prop.value.content}"`);
      }
    }
  }
}

describe('the locale file', () => {
  it('has a sentence for every error code', () => {
    const errors = en.errors as Record<string, string>;
    for (const code of Object.keys(ERROR_MESSAGES)) expect(errors[code], code).toMatch(/\w/);
  });

  it('no component template contains literal UI text', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(20);
    const found: string[] = [];
    for (const [file, source] of Object.entries(sources)) {
      const texts: string[] = [];
      literalTexts(parse(templateOf(source)), texts);
      // Punctuation between interpolations (": ") is not language.
      for (const text of texts.filter((t) => /\p{L}{2,}/u.test(t))) found.push(`${file}: ${text}`);
    }
    expect(found).toEqual([]);
  });
});
