/**
 * A counting HTTP proxy in front of the reference server, for the browser client's race tests.
 * The pages load from the proxy's origin, so every request a tab makes passes through it:
 * - `reached`: requests forwarded to the server, by `METHOD /path` (what "reaches the server");
 * - `hold(path)`: requests to a path wait (a refresh kept in flight) until `release()`;
 * - `stop()` / `start()`: the port closes (connections refused, held requests cut) and reopens;
 * - `/client.html` + `/client.js`: a blank page with the client bundle (see client-page.ts).
 */
import { once } from 'node:events';
import {
  createServer,
  request as forward,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

const PAGE =
  '<!doctype html><meta charset="utf-8"><title>client</title><script type="module" src="/client.js"></script>';

export class CountingProxy {
  readonly reached = new Map<string, number>();
  #server: Server;
  #sockets = new Set<Socket>();
  #held: Array<() => void> = [];
  #holding = new Set<string>();
  port = 0;

  constructor(
    private readonly target: URL,
    private readonly script: string,
  ) {
    this.#server = this.#create();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  count(method: string, path: string): number {
    return this.reached.get(`${method} ${path}`) ?? 0;
  }

  /** Every request that reached the server, all paths together. */
  total(): number {
    return [...this.reached.values()].reduce((a, b) => a + b, 0);
  }

  /** How many requests are being held. */
  heldCount(): number {
    return this.#held.length;
  }

  hold(path: string): void {
    this.#holding.add(path);
  }

  /** Stops holding and lets the held requests through. */
  release(): void {
    this.#holding.clear();
    for (const go of this.#held.splice(0)) go();
  }

  #create(): Server {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    return server;
  }

  async start(): Promise<void> {
    this.#server.listen(this.port, '127.0.0.1');
    await once(this.#server, 'listening');
    this.port = (this.#server.address() as AddressInfo).port;
  }

  /** The server is gone: the port refuses connections and open ones (held requests too) are cut. */
  async stop(): Promise<void> {
    const closed = new Promise((resolve) => this.#server.close(resolve));
    for (const socket of this.#sockets) socket.destroy();
    this.#held.splice(0);
    this.#holding.clear();
    await closed;
    this.#server = this.#create();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (path === '/client.html' || path === '/client.js') {
      res.writeHead(200, {
        'content-type': path.endsWith('.js') ? 'text/javascript' : 'text/html',
        'cache-control': 'no-store',
      });
      res.end(path.endsWith('.js') ? this.script : PAGE);
      return;
    }
    if (this.#holding.has(path)) {
      await new Promise<void>((resolve) => this.#held.push(resolve));
      if (req.socket.destroyed) return;
    }
    const key = `${req.method} ${path}`;
    this.reached.set(key, (this.reached.get(key) ?? 0) + 1);
    const upstream = forward(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}
