import { describe, expect, it } from 'vitest';
import { crawlSite } from '../../../src/risk-api/crawl-site.js';
import type { FetchedPage, PageFetcher } from '../../../src/risk-api/safe-fetch.js';
import { BlockedTargetError, UnreachableTargetError } from '../../../src/errors.js';

/** A body, an error to throw, `{ hang: true }` (wait for abort) or a status with a body. */
type Route = string | Error | { hang: true } | { status: number; body: string };

/** A fake fetcher over a route table. */
function fakeFetcher(routes: Record<string, Route>): PageFetcher & { fetched: string[] } {
  const fetched: string[] = [];
  return {
    fetched,
    async fetchPage(url: URL, signal: AbortSignal): Promise<FetchedPage> {
      fetched.push(url.href);
      const r = routes[url.href];
      if (r === undefined)
        return {
          requestedUrl: url.href,
          finalUrl: url.href,
          status: 404,
          contentType: 'text/html',
          body: '',
          bytes: 0,
          truncated: false,
          redirects: 0,
        };
      if (r instanceof Error) throw r;
      if (typeof r === 'object' && 'hang' in r) {
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new UnreachableTargetError('aborted')), { once: true }),
        );
      }
      const { status, body } = typeof r === 'string' ? { status: 200, body: r } : r;
      return {
        requestedUrl: url.href,
        finalUrl: url.href,
        status,
        contentType: 'text/html',
        body,
        bytes: body.length,
        truncated: false,
        redirects: 0,
      };
    },
  };
}

const HOME = 'https://shop.example.com/';
const home =
  '<title>Shop</title><p>Welcome</p><a href="/terms">Terms</a><a href="/privacy">Privacy</a><a href="/refunds">Refunds</a><a href="/contact">Contact</a><a href="/blog">Blog</a>';

describe('crawlSite', () => {
  it('fetches the home page and the policy pages it links, nothing else', async () => {
    const f = fakeFetcher({
      [HOME]: home,
      [`${HOME}terms`]: 'terms',
      [`${HOME}privacy`]: 'privacy',
      [`${HOME}refunds`]: 'refunds',
      [`${HOME}contact`]: 'contact',
    });
    const r = await crawlSite(new URL(HOME), f, { maxPages: 6, signal: new AbortController().signal });
    expect(f.fetched.sort()).toEqual([HOME, `${HOME}contact`, `${HOME}privacy`, `${HOME}refunds`, `${HOME}terms`]);
    expect(r.pages.map((p) => [p.url, p.roles])).toEqual([
      [HOME, ['home']],
      [`${HOME}refunds`, ['refund']],
      [`${HOME}terms`, ['terms']],
      [`${HOME}privacy`, ['privacy']],
      [`${HOME}contact`, ['contact']],
    ]);
    expect(r.discovered).toBe(4);
    expect(r.skipped).toEqual([]);
  });

  it('never fetches more than maxPages pages', async () => {
    const f = fakeFetcher({ [HOME]: home });
    const r = await crawlSite(new URL(HOME), f, { maxPages: 3, signal: new AbortController().signal });
    expect(f.fetched).toHaveLength(3);
    expect(r.discovered).toBe(2);
    const only = fakeFetcher({ [HOME]: home });
    await crawlSite(new URL(HOME), only, { maxPages: 1, signal: new AbortController().signal });
    expect(only.fetched).toEqual([HOME]);
  });

  it('skips policy pages that are refused, fail or answer non-2xx, reporting refusals', async () => {
    const blocked: string[] = [];
    const f = fakeFetcher({
      [HOME]: home,
      [`${HOME}terms`]: new BlockedTargetError('address', 'redirect to 10.0.0.1'),
      [`${HOME}privacy`]: new UnreachableTargetError('connection reset'),
      [`${HOME}refunds`]: { status: 500, body: 'oops' },
      [`${HOME}contact`]: 'contact',
    });
    const r = await crawlSite(new URL(HOME), f, {
      maxPages: 6,
      signal: new AbortController().signal,
      onBlocked: (_e, url) => blocked.push(url),
    });
    expect(r.pages.map((p) => p.url)).toEqual([HOME, `${HOME}contact`]);
    expect(r.skipped).toEqual([
      { url: `${HOME}refunds`, kinds: ['refund'], reason: 'HTTP 500' },
      { url: `${HOME}terms`, kinds: ['terms'], reason: 'blocked: address' },
      { url: `${HOME}privacy`, kinds: ['privacy'], reason: 'connection reset' },
    ]);
    expect(blocked).toEqual([`${HOME}terms`]);
  });

  it('returns what it has when the budget ends while policy pages are loading', async () => {
    const ac = new AbortController();
    const f = fakeFetcher({
      [HOME]: home,
      [`${HOME}terms`]: 'terms',
      [`${HOME}privacy`]: { hang: true },
      [`${HOME}refunds`]: { hang: true },
      [`${HOME}contact`]: 'contact',
    });
    // The budget ends once every page was asked for: the home page and four policy pages.
    let allAsked: () => void = () => undefined;
    const asked = new Promise<void>((resolve) => (allAsked = resolve));
    const fetcher: PageFetcher = {
      fetchPage: (url, signal) => {
        const page = f.fetchPage(url, signal);
        if (f.fetched.length === 5) allAsked();
        return page;
      },
    };
    const pending = crawlSite(new URL(HOME), fetcher, { maxPages: 6, signal: ac.signal });
    await asked;
    ac.abort();
    const r = await pending;
    expect(r.budgetExhausted).toBe(true);
    expect(r.pages.map((p) => p.url)).toEqual([HOME, `${HOME}terms`, `${HOME}contact`]);
    expect(r.skipped.map((s) => s.reason)).toEqual(['time budget exhausted', 'time budget exhausted']);
  });

  it('propagates a refused, unreachable or non-2xx home page', async () => {
    const signal = new AbortController().signal;
    await expect(
      crawlSite(new URL(HOME), fakeFetcher({ [HOME]: new BlockedTargetError('address', 'x') }), {
        maxPages: 6,
        signal,
      }),
    ).rejects.toThrow(BlockedTargetError);
    await expect(
      crawlSite(new URL(HOME), fakeFetcher({ [HOME]: new UnreachableTargetError('x') }), { maxPages: 6, signal }),
    ).rejects.toThrow(UnreachableTargetError);
    await expect(
      crawlSite(new URL(HOME), fakeFetcher({ [HOME]: { status: 404, body: '' } }), { maxPages: 6, signal }),
    ).rejects.toThrow(/HTTP 404/);
  });
});
