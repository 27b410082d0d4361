/**
 * HTML → visible text, the page title and the links, in one linear pass.
 *
 * Not a full HTML parser, and deliberately not regex-driven: hostile pages can be built to make
 * lazy `[\s\S]*?` patterns quadratic. The scanner moves forward with `indexOf` and bounded
 * searches only, so the cost is linear in the (already byte-capped) page size. Script, style
 * and other non-text elements are dropped with their content; comments are dropped; block
 * elements become line breaks; character references are decoded after the tags are gone.
 */
import { decodeEntities } from './html-entities.js';

export interface PageLink {
  readonly href: string;
  readonly text: string;
}

export interface ExtractedPage {
  readonly title: string;
  readonly text: string;
  readonly links: readonly PageLink[];
}

/** Links kept per page; a policy link is in the first few hundred on any real site. */
export const MAX_LINKS = 500;

const SKIP_CONTENT = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'math',
  'iframe',
  'object',
  'canvas',
  'select',
]);
const INLINE = new Set([
  'a',
  'abbr',
  'b',
  'bdi',
  'bdo',
  'cite',
  'code',
  'data',
  'dfn',
  'em',
  'font',
  'i',
  'kbd',
  'mark',
  'q',
  's',
  'samp',
  'small',
  'span',
  'strong',
  'sub',
  'sup',
  'time',
  'u',
  'var',
  'wbr',
]);
const TAG_NAME = /^\/?([A-Za-z][A-Za-z0-9-]{0,63})/;
const HREF = /\shref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/i;

/** Index of the `>` that closes the tag opened at `from`, skipping quoted attribute values. */
function tagEnd(html: string, from: number): number {
  let quote = '';
  let afterEquals = false;
  for (let i = from; i < html.length; i++) {
    const c = html[i];
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if ((c === '"' || c === "'") && afterEquals) {
      // Only a value may be quoted: a stray apostrophe in `<a title=it's>` is just a character.
      quote = c;
    } else if (c === '>') {
      return i;
    }
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') afterEquals = c === '=';
  }
  return -1;
}

/** Index just past `</name ...>` at or after `from`, or the end of the input. */
function skipElement(html: string, name: string, from: number): number {
  const close = new RegExp(`</${name}[\\s/>]`, 'gi');
  close.lastIndex = from;
  const m = close.exec(html);
  if (m === null) return html.length;
  const end = html.indexOf('>', m.index);
  return end === -1 ? html.length : end + 1;
}

function collapse(text: string): string {
  return text
    .replace(/[ \t\f\v\r\u00a0\u200b]+/g, ' ')
    .replace(/ ?\n[ \n]*/g, '\n')
    .trim();
}

/** Extract title, visible text and links from `html`. */
export function extractPage(html: string): ExtractedPage {
  const out: string[] = [];
  const links: PageLink[] = [];
  let title = '';
  let anchor: { href: string; parts: string[] } | null = null;
  let i = 0;
  const n = html.length;

  while (i < n) {
    const lt = html.indexOf('<', i);
    const textEnd = lt === -1 ? n : lt;
    if (textEnd > i) {
      const chunk = html.slice(i, textEnd);
      out.push(chunk);
      anchor?.parts.push(chunk);
    }
    if (lt === -1) break;

    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end === -1 ? n : end + 3;
      continue;
    }
    const next = html[lt + 1] ?? '';
    if (next === '!' || next === '?') {
      const end = html.indexOf('>', lt);
      i = end === -1 ? n : end + 1;
      continue;
    }
    const m = TAG_NAME.exec(html.slice(lt + 1, lt + 66));
    if (m === null) {
      // A bare "<" in text, like "a < b".
      out.push('<');
      anchor?.parts.push('<');
      i = lt + 1;
      continue;
    }
    const end = tagEnd(html, lt + 1);
    if (end === -1) break; // an unterminated tag at the end of a truncated page
    const name = (m[1] ?? '').toLowerCase();
    const closing = html[lt + 1] === '/';
    const tag = html.slice(lt, end + 1);
    i = end + 1;

    if (!closing && SKIP_CONTENT.has(name) && !tag.endsWith('/>')) {
      i = skipElement(html, name, i);
      out.push(' ');
      continue;
    }
    if (!closing && name === 'title') {
      const close = skipElement(html, 'title', i);
      const raw = html.slice(i, close).replace(/<\/title[^>]*>$/i, '');
      if (title === '') title = collapse(decodeEntities(raw));
      i = close;
      // The title is part of the text: "Refund Policy" there is evidence like a heading is.
      out.push('\n', raw, '\n');
      continue;
    }
    if (name === 'a') {
      if (anchor !== null && links.length < MAX_LINKS) links.push(finishAnchor(anchor));
      anchor = null;
      if (!closing) {
        const href = HREF.exec(tag);
        const value = href?.[1] ?? href?.[2] ?? href?.[3];
        if (value !== undefined) anchor = { href: decodeEntities(value).trim(), parts: [] };
      }
      continue;
    }
    if (name === 'br' || !INLINE.has(name)) {
      out.push(
        name === 'br' || name === 'p' || name === 'div' || name === 'li' || /^h[1-6]$/.test(name) || name === 'tr'
          ? '\n'
          : ' ',
      );
      anchor?.parts.push(' ');
    }
  }
  if (anchor !== null && links.length < MAX_LINKS) links.push(finishAnchor(anchor));
  return { title, text: collapse(decodeEntities(out.join(''))), links };
}

function finishAnchor(a: { href: string; parts: string[] }): PageLink {
  return { href: a.href, text: collapse(decodeEntities(a.parts.join(''))).slice(0, 200) };
}
