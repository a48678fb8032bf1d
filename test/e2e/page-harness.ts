/**
 * The lifecycle shared by the browser tests whose pages run a test script (client.test.ts,
 * dpop.test.ts): Chromium checked for (a counted skip, or a failure under CI), the page script
 * bundled by esbuild once per file, one browser per file, each test's cleanups run in reverse, no
 * uncaught page error allowed; `start`: the reference server behind the counting proxy (proxy.ts).
 */
import { existsSync } from 'node:fs';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { describeWithService, serviceAvailable } from '../support/services.js';
import { CountingProxy } from './proxy.js';
import { CHROMIUM, launchBrowser } from './support.js';

export interface PageHarness {
  readonly browser: Browser;
  /** The bundled page script (served by the counting proxy as /client.js). */
  readonly script: string;
  /** Run after the current test, last added first. */
  readonly cleanups: Array<() => Promise<unknown>>;
  /** Uncaught errors of every page of the current test (the test fails if any). */
  readonly pageErrors: string[];
  /** `describe` when Chromium is there. */
  readonly describeBrowser: ReturnType<typeof describeWithService>;
  /** The reference server with `config`, the counting proxy in front, a browser context. */
  start(config: Parameters<typeof startServer>[0], query: string): Promise<Setup>;
}

export interface Setup {
  srv: RunningServer;
  proxy: CountingProxy;
  ctx: BrowserContext;
  /** Opens a tab on the page (`/client.html?<query>`) and waits until its client is ready. */
  tab(options?: { wait?: boolean; ctx?: BrowserContext }): Promise<Page>;
}

/** The page script's `window.t`, as far as the harness needs it. */
declare const t: { client: { ready: Promise<unknown> } };

/** Registers the hooks of a browser test file whose pages run `entry` (a path to a .ts file). */
export async function pageHarness(entry: string): Promise<PageHarness> {
  const available = await serviceAvailable('Chromium (browser tests)', async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} not found (apt-get install chromium, or set CHROMIUM_PATH)`);
  });
  const harness = {
    browser: undefined as unknown as Browser,
    script: '',
    cleanups: [] as Array<() => Promise<unknown>>,
    pageErrors: [] as string[],
    describeBrowser: describeWithService(available),
    async start(config: Parameters<typeof startServer>[0], query: string): Promise<Setup> {
      const srv = await startServer({ port: 0, logLevel: false, spaDir: import.meta.dirname, ...config });
      harness.cleanups.push(() => srv.close());
      const proxy = new CountingProxy(new URL(srv.url), harness.script);
      await proxy.start();
      harness.cleanups.push(() => proxy.stop());
      const ctx = await harness.browser.newContext();
      harness.cleanups.push(() => ctx.close());
      return {
        srv,
        proxy,
        ctx,
        async tab({ wait = true, ctx: inContext = ctx } = {}) {
          const page = await inContext.newPage();
          page.on('pageerror', (error) => harness.pageErrors.push(error.message));
          await page.goto(`${proxy.url}/client.html?${query}`);
          await page.waitForFunction(() => 't' in window);
          if (wait) await page.evaluate(() => t.client.ready);
          return page;
        },
      };
    },
  };
  beforeAll(async () => {
    if (!available) return;
    const [bundle, launched] = await Promise.all([
      build({
        entryPoints: [entry],
        bundle: true,
        format: 'esm',
        target: 'es2020',
        write: false,
        logLevel: 'silent',
      }),
      launchBrowser(),
    ]);
    harness.script = bundle.outputFiles[0]!.text;
    harness.browser = launched;
  });
  afterEach(async () => {
    for (const cleanup of harness.cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    expect(harness.pageErrors.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    await harness.browser?.close();
  });
  return harness;
}
