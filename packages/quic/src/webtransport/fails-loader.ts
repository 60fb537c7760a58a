/**
 * Loads @fails-components/webtransport on first use. At import the library tries its optional
 * native HTTP/3 package (@fails-components/webtransport-transport-http3-quiche) and, when it is
 * not installed, prints three lines to the console; Junction serves HTTP/3 itself and uses the
 * library for HTTP/2 only, so those lines are held back while it loads. If the native package
 * is installed, the library loads it as it always does.
 */
type FailsModule = typeof import('@fails-components/webtransport');

const NOISE = [/^Problem loading http3-quiche transport/, /^Did you install @fails-components\/webtransport-transport-http3-quiche/, /^http3 loader:/];

let loading: Promise<FailsModule> | undefined;

export function loadFailsWebTransport(): Promise<FailsModule> {
  return (loading ??= (async () => {
    const { error, log } = console;
    const filter =
      (write: (...args: unknown[]) => void) =>
      (...args: unknown[]): void => {
        if (typeof args[0] === 'string' && NOISE.some((re) => re.test(args[0] as string))) return;
        write(...args);
      };
    console.error = filter(error);
    console.log = filter(log);
    try {
      const mod = await import('@fails-components/webtransport');
      // Both of the library's loaders settle after their import attempt; wait for them.
      await mod.quicheLoaded.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 10));
      return mod;
    } finally {
      console.error = error;
      console.log = log;
    }
  })());
}
