/**
 * A loopback TCP proxy to put in front of a real database and break it on demand, without touching
 * the shared server other test files use:
 *
 * - `pause()`: a black hole. Connections are still accepted, but every byte either way is read
 *   and dropped, so clients see silence (no error, no reset): only their timeouts can save them.
 *   A connection that lost bytes has a corrupt stream; `resume()` resets it, like a peer that
 *   timed out. Connections that stayed idle through the pause carry on.
 * - `refuse()`: the listener closes (new connections get ECONNREFUSED) and every open connection
 *   is reset (ECONNRESET), like a database that went down.
 * - `resume()`: back to forwarding, on the same port.
 */
import net from 'node:net';

type Mode = 'open' | 'paused' | 'refused';

interface Link {
  readonly client: net.Socket;
  upstream: net.Socket | null;
  /** Bytes were dropped: the protocol stream is broken for good. */
  corrupt: boolean;
}

export class TcpProxy {
  readonly host = '127.0.0.1';
  readonly #target: { host: string; port: number };
  readonly #server: net.Server;
  readonly #links = new Set<Link>();
  #mode: Mode = 'open';
  #port = 0;
  /** Connections accepted since start, for assertions. */
  accepted = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = net.createServer((client) => this.#accept(client));
  }

  /** Starts a proxy on an ephemeral loopback port in front of `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.#listen(0);
    return proxy;
  }

  /** Starts a proxy in front of the host:port of a URL. */
  static forUrl(url: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(url);
    return TcpProxy.start({ host: hostname, port: Number(port) });
  }

  get port(): number {
    return this.#port;
  }

  get mode(): Mode {
    return this.#mode;
  }

  /** Open connections (client side). */
  get connections(): number {
    return this.#links.size;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = this.host;
    parsed.port = String(this.#port);
    return parsed.toString();
  }

  pause(): void {
    if (this.#mode === 'open') this.#mode = 'paused';
  }

  async refuse(): Promise<void> {
    if (this.#mode === 'refused') return;
    this.#mode = 'refused';
    for (const link of [...this.#links]) this.#reset(link);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async resume(): Promise<void> {
    if (this.#mode === 'refused') await this.#listen(this.#port);
    this.#mode = 'open';
    for (const link of [...this.#links]) if (link.corrupt) this.#reset(link);
  }

  async close(): Promise<void> {
    this.#mode = 'refused';
    for (const link of [...this.#links]) this.#reset(link);
    if (this.#server.listening) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, this.host, () => {
        this.#server.off('error', reject);
        const address = this.#server.address();
        if (address !== null && typeof address === 'object') this.#port = address.port;
        resolve();
      });
    });
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    const link: Link = { client, upstream: null, corrupt: false };
    this.#links.add(link);
    client.on('error', () => {});
    client.on('close', () => this.#drop(link));
    client.on('data', (chunk) => this.#forward(link, chunk, link.upstream));
    if (this.#mode !== 'open') {
      // Accepted into the black hole: whatever the client says first is lost.
      link.corrupt = true;
      return;
    }
    const upstream = net.connect(this.#target.port, this.#target.host);
    link.upstream = upstream;
    upstream.on('error', () => {});
    upstream.on('close', () => this.#drop(link));
    upstream.on('data', (chunk) => this.#forward(link, chunk, client));
  }

  #forward(link: Link, chunk: Buffer, to: net.Socket | null): void {
    if (this.#mode === 'open' && !link.corrupt && to !== null) {
      to.write(chunk);
    } else {
      link.corrupt = true;
    }
  }

  #reset(link: Link): void {
    this.#links.delete(link);
    for (const socket of [link.client, link.upstream]) {
      if (socket !== null && !socket.destroyed) socket.resetAndDestroy();
    }
  }

  #drop(link: Link): void {
    this.#links.delete(link);
    link.client.destroy();
    link.upstream?.destroy();
  }
}
