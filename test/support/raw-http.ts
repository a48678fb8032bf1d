/**
 * A raw HTTP/1.1 exchange on a new connection, for requests fetch refuses to send (oversized or
 * malformed headers): resolves the status code, the lower-cased header block and the body.
 */
import { connect } from 'node:net';
import { expect } from 'vitest';

export interface RawReply {
  status: number;
  headers: string;
  body: string;
}

export function rawExchange(port: number, request: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('close', () => {
      const split = text.indexOf('\r\n\r\n');
      resolve({
        status: Number(text.slice(9, 12)),
        headers: text.slice(0, split).toLowerCase(),
        body: text.slice(split + 4),
      });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close while the rest of an oversized request is still being written.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') socket.destroy();
      else reject(error);
    });
  });
}

/** A raw reply in the contract's error shape: the status, exactly `{error, code}`, no-store, nothing echoed. */
export function expectRawContractError(
  reply: RawReply,
  status: number,
  code: string,
  notEchoed: string,
): void {
  expect(reply.status).toBe(status);
  expect(JSON.parse(reply.body)).toEqual({ error: expect.any(String), code });
  expect(reply.headers).toContain('cache-control: no-store');
  expect(reply.body).not.toContain(notEchoed);
}
