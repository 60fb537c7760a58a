/**
 * The Node side of the transports' browser tests: Debian's headless Chromium (through
 * playwright-core, never a downloaded browser) with a fresh profile, and a loopback web server
 * for one test page bundled by esbuild (its browser side is `./browser-page.ts`). The page is
 * served at `/` with the config the test sets; `/blank` is an empty page of the same origin.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrokerCore, ConnectInfo } from '@junction/broker-core';
import { build, type BuildOptions } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { PageConfig, PageState } from './browser-page.js';

export type { PageConfig, PageState } from './browser-page.js';

/** Debian's Chromium (`.ci/run` installs the `chromium` package when it is missing). */
export const CHROMIUM = process.env.JUNCTION_CHROMIUM ?? '/usr/bin/chromium';
/** Whether the browser tests can run here (`describe.skipIf(!hasChromium)`). */
export const hasChromium = existsSync(CHROMIUM);

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface BrowserPage {
  readonly browser: BrowserContext;
  /** `http://127.0.0.1:<port>`, where the page is served. */
  readonly origin: string;
  readonly port: number;
  /** Serve the page at `/` with this config from now on. */
  show(config: PageConfig & Record<string, unknown>, title?: string): void;
  /** A new tab at `path` of the origin (or at a whole URL), collecting the page's uncaught errors. */
  open(pathOrUrl?: string): Promise<{ tab: Page; pageErrors: string[] }>;
  close(): Promise<void>;
}

export interface BrowserPageOptions {
  /** The page script (absolute path), bundled with what it imports. */
  entry: string;
  /** More esbuild options for the bundle. */
  build?: BuildOptions;
  /** More Chromium flags. */
  chromiumArgs?: readonly string[];
}

/** Bundles the page, serves it on loopback and starts Chromium. */
export async function startBrowserPage(opts: BrowserPageOptions): Promise<BrowserPage> {
  const out = await build({ entryPoints: [opts.entry], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', write: false, logLevel: 'silent', ...opts.build });
  const bundle = out.outputFiles![0]!.text;
  let html = '';
  const web = createServer((req, res) => {
    if (req.url === '/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      res.end(bundle);
    } else if (req.url === '/' || req.url === '/blank') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(req.url === '/' ? html : '<!doctype html><title>blank</title>');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  const port = (web.address() as AddressInfo).port;
  const closeWeb = () => new Promise<void>((resolve) => web.close(() => resolve()));
  const profile = mkdtempSync(join(tmpdir(), 'junction-chromium-'));
  let browser: BrowserContext;
  try {
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...(opts.chromiumArgs ?? [])], timeout: 30_000 });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    await closeWeb();
    throw err;
  }
  return {
    browser,
    origin: `http://127.0.0.1:${port}`,
    port,
    show(config, title = 'Junction browser test') {
      html = `<!doctype html><meta charset="utf-8"><title>${title}</title>
<script id="config" type="application/json">${JSON.stringify(config)}</script>
<script type="module" src="/app.js"></script>`;
    },
    async open(pathOrUrl = '/') {
      const tab = await browser.newPage();
      const pageErrors: string[] = [];
      tab.on('pageerror', (err) => pageErrors.push(err.message));
      await tab.goto(pathOrUrl.startsWith('/') ? `http://127.0.0.1:${port}${pathOrUrl}` : pathOrUrl);
      return { tab, pageErrors };
    },
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
      await closeWeb();
    },
  };
}

/** What the page recorded so far. */
export function pageState(tab: Page): Promise<PageState> {
  return tab.evaluate(() => (window as unknown as { junctionTest: PageState }).junctionTest);
}

/** Any of: subscribed, an error recorded, an event seen. */
export interface PageWait {
  subscribed?: boolean;
  error?: boolean;
  event?: string;
}

/** Waits until the page's state shows any of `wait`, then returns it. */
export async function waitForPage(tab: Page, wait: PageWait, timeoutMs = 10_000): Promise<PageState> {
  await tab.waitForFunction(
    (w: PageWait) => {
      const s = (window as unknown as { junctionTest?: PageState }).junctionTest;
      if (s === undefined) return false;
      return (w.subscribed === true && s.subscribed) || (w.error === true && s.error !== undefined) || (w.event !== undefined && s.events.includes(w.event));
    },
    wait,
    { timeout: timeoutMs },
  );
  return pageState(tab);
}

/** Resolves with the connect info of the next connect of `clientId`. */
export function nextConnect(broker: BrokerCore, clientId: string): Promise<ConnectInfo> {
  return new Promise((resolve) => {
    const off = broker.hooks.on('client.connected', (client, info) => {
      if (client.clientId !== clientId) return;
      off();
      resolve(info);
    });
  });
}
