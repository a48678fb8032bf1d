/**
 * A throwaway `redis-server` for tests that must stop, stall or restart Redis (failure and
 * recovery) or need a server of their own (exact command counts): spawned as a child process on a
 * spare loopback port from 6390 up, no persistence, killed when the test process exits.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';
import { Redis } from 'ioredis';

export interface ThrowawayRedis {
  readonly port: number;
  readonly url: string;
  /** Whether the process is running (possibly stalled). */
  readonly running: boolean;
  /** SIGTERM and wait for the process to exit (connections drop). */
  stop(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing answers (a "slow" server). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
}

/** Whether a `redis-server` binary is on PATH. */
export function redisServerInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** A free loopback port at or above `from`, picked at random in a window to avoid parallel clashes. */
export async function sparePort(from = 6390, span = 400): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = from + Math.floor(Math.random() * span);
    if (await portFree(port)) return port;
  }
  throw new Error('no spare loopback port for redis-server');
}

async function answersPing(port: number): Promise<boolean> {
  const socket = new Socket();
  try {
    socket.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('PING\r\n');
    const [data] = (await Promise.race([
      once(socket, 'data'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 500)),
    ])) as [Buffer];
    return data.toString().startsWith('+PONG');
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startRedisServer(port?: number): Promise<ThrowawayRedis> {
  const chosen = port ?? (await sparePort());
  let child: ChildProcess | null = null;

  async function start(): Promise<void> {
    if (child !== null) return;
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(chosen),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: 'ignore' },
    );
    child = proc;
    live.add(proc);
    proc.once('exit', () => {
      live.delete(proc);
      if (child === proc) child = null;
    });
    for (let i = 0; i < 100; i++) {
      if (child === null) throw new Error(`redis-server on port ${chosen} exited at start`);
      if (await answersPing(chosen)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server on port ${chosen} did not answer`);
  }

  await start();
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    get running() {
      return child !== null;
    },
    async stop() {
      const proc = child;
      if (proc === null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      await exited;
    },
    start,
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
  };
}

export interface MonitoredCommand {
  /** Lower-case command name. */
  readonly name: string;
  readonly args: readonly string[];
  /** `ip:port` of the issuing connection, or `lua` for a command run by a script. */
  readonly source: string;
  /** `host:port` of the node that ran it. */
  readonly node: string;
}

/**
 * Watches what Redis servers execute (MONITOR on a dedicated connection per node), to count round
 * trips and check which commands an operation uses. `record` brackets an operation with ECHO
 * markers sent on a separate connection to each node, so exactly the commands run in between (on
 * every node) are returned, whatever the delivery timing of the monitor feed.
 */
export class CommandWatch {
  readonly #nodes: { key: string; monitor: Redis; control: Redis; events: MonitoredCommand[] }[];

  private constructor(nodes: { key: string; monitor: Redis; control: Redis; events: MonitoredCommand[] }[]) {
    this.#nodes = nodes;
  }

  static async start(nodes: { host: string; port: number }[]): Promise<CommandWatch> {
    const watched = await Promise.all(
      nodes.map(async ({ host, port }) => {
        const key = `${host}:${port}`;
        // A monitor connection of our own rather than `redis.monitor()`: the feed can start in the
        // same packet as MONITOR's +OK, before ioredis has switched the connection to monitoring
        // mode, and ioredis reports each such line as an 'error' — uncaught unless a listener is
        // already attached. Those lines precede the first sync marker, so nothing is lost.
        const monitor = new Redis({ host, port, lazyConnect: true, monitor: true });
        monitor.on('error', () => undefined);
        const events: MonitoredCommand[] = [];
        monitor.on('monitor', (_time: string, args: string[], source: string) => {
          events.push({ name: String(args[0]).toLowerCase(), args: args.slice(1), source, node: key });
        });
        // Not events.once: it would reject on those early 'error's.
        const monitoring = new Promise<void>((resolve) => monitor.once('monitoring', () => resolve()));
        await monitor.connect();
        await monitoring;
        const control = new Redis({ host, port });
        return { key, monitor, control, events };
      }),
    );
    return new CommandWatch(watched);
  }

  /** Runs `operation` and returns what every watched node executed meanwhile. */
  async record<T>(operation: () => Promise<T>): Promise<{ result: T; commands: MonitoredCommand[] }> {
    const starts = await this.#sync();
    const result = await operation();
    const ends = await this.#sync();
    const commands = this.#nodes.flatMap((node, i) => node.events.slice(starts[i]! + 1, ends[i]!));
    for (const node of this.#nodes) node.events.length = 0;
    return { result, commands };
  }

  async stop(): Promise<void> {
    for (const node of this.#nodes) {
      node.monitor.disconnect();
      await node.control.quit();
    }
  }

  /** Sends a unique ECHO to each node and waits until its monitor feed shows it: returns its index. */
  async #sync(): Promise<number[]> {
    return Promise.all(
      this.#nodes.map(async (node) => {
        const marker = `watch-marker-${Math.random().toString(36).slice(2)}`;
        await node.control.echo(marker);
        for (let i = 0; i < 400; i++) {
          const at = node.events.findIndex((e) => e.name === 'echo' && e.args[0] === marker);
          if (at !== -1) return at;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        throw new Error(`monitor of ${node.key} never showed the marker`);
      }),
    );
  }
}

/** The client round trips among `commands`: top-level commands naming `prefix`, minus pub/sub noise. */
export function roundTrips(commands: readonly MonitoredCommand[], prefix: string): MonitoredCommand[] {
  return commands.filter(
    (c) =>
      c.source !== 'lua' &&
      c.name !== 'publish' &&
      c.name !== 'subscribe' &&
      c.args.some((arg) => arg.includes(prefix)),
  );
}
