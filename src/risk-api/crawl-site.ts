/**
 * The bounded crawl: the home page, then the policy pages it links to, all within one
 * `AbortSignal` (the scan's time budget) and at most `maxPages` pages in total.
 *
 * The home page must load: if it is refused or unreachable, the error propagates (403/502).
 * Policy pages are best effort: fetched together (at most `maxPages - 1` of them), and each one
 * that is refused, fails, answers non-2xx or runs out of budget is reported in `skipped`.
 */
import { discoverPolicyLinks } from './discover-links.js';
import { extractPage } from './html-text.js';
import type { FetchedPage, PageFetcher } from './safe-fetch.js';
import { BlockedTargetError, UnreachableTargetError } from '../errors.js';
import type { PolicyKind } from './types.js';

export interface ScannedPage {
  readonly url: string;
  readonly roles: readonly ('home' | PolicyKind)[];
  readonly status: number;
  readonly bytes: number;
  readonly truncated: boolean;
  readonly title: string;
  readonly text: string;
}

export interface CrawlResult {
  readonly finalUrl: string;
  readonly pages: readonly ScannedPage[];
  /** Policy pages found on the home page, whether or not they could be scanned. */
  readonly discovered: number;
  readonly skipped: readonly SkippedPage[];
  readonly redirects: number;
  readonly budgetExhausted: boolean;
}

export interface SkippedPage {
  readonly url: string;
  readonly kinds: readonly PolicyKind[];
  readonly reason: string;
}

export interface CrawlOptions {
  readonly maxPages: number;
  readonly signal: AbortSignal;
  /** Told about every refused policy page (the home page's refusal is thrown instead). */
  readonly onBlocked?: (err: BlockedTargetError, url: string) => void;
}

function toScanned(
  page: FetchedPage,
  roles: readonly ('home' | PolicyKind)[],
): { scanned: ScannedPage; links: ReturnType<typeof extractPage>['links'] } {
  const isPlain = page.contentType.toLowerCase().startsWith('text/plain');
  const extracted = isPlain ? { title: '', text: page.body.trim(), links: [] } : extractPage(page.body);
  return {
    scanned: {
      url: page.finalUrl,
      roles,
      status: page.status,
      bytes: page.bytes,
      truncated: page.truncated,
      title: extracted.title,
      text: extracted.text,
    },
    links: extracted.links,
  };
}

/** Crawl `start`. Throws BlockedTargetError / UnreachableTargetError for the home page only. */
export async function crawlSite(start: URL, fetcher: PageFetcher, opts: CrawlOptions): Promise<CrawlResult> {
  const home = await fetcher.fetchPage(start, opts.signal);
  if (home.status < 200 || home.status > 299)
    throw new UnreachableTargetError(`${start.host} answered HTTP ${home.status}`);
  const { scanned, links } = toScanned(home, ['home']);

  const policyLinks = opts.maxPages > 1 ? discoverPolicyLinks(links, home.finalUrl, opts.maxPages - 1) : [];
  const skipped: SkippedPage[] = [];
  const pages: ScannedPage[] = [scanned];
  let redirects = home.redirects;

  const settled = await Promise.allSettled(
    policyLinks.map((link) => fetcher.fetchPage(new URL(link.url), opts.signal)),
  );
  settled.forEach((result, index) => {
    const link = policyLinks[index];
    if (link === undefined) return;
    if (result.status === 'rejected') {
      const err: unknown = result.reason;
      if (err instanceof BlockedTargetError) {
        opts.onBlocked?.(err, link.url);
        skipped.push({ url: link.url, kinds: link.kinds, reason: `blocked: ${err.reason}` });
      } else if (opts.signal.aborted) {
        skipped.push({ url: link.url, kinds: link.kinds, reason: 'time budget exhausted' });
      } else {
        skipped.push({
          url: link.url,
          kinds: link.kinds,
          reason: err instanceof UnreachableTargetError ? err.message : 'fetch failed',
        });
      }
      return;
    }
    const page = result.value;
    redirects += page.redirects;
    if (page.status < 200 || page.status > 299) {
      skipped.push({ url: link.url, kinds: link.kinds, reason: `HTTP ${page.status}` });
      return;
    }
    pages.push(toScanned(page, link.kinds).scanned);
  });

  return {
    finalUrl: home.finalUrl,
    pages,
    discovered: policyLinks.length,
    skipped,
    redirects,
    budgetExhausted: opts.signal.aborted,
  };
}
