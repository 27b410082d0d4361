/** The anchors a Markdown renderer (GitHub's rules) gives the headings of `text`. */
export function markdownAnchors(text: string): string[] {
  return [...text.matchAll(/^#{1,6} +(.+)$/gm)].map((m) =>
    m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-'),
  );
}
