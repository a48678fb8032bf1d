#!/usr/bin/env node
/** The `jwt-sessions` executable (package.json `bin`): runs the CLI on this process's arguments. */
import { run } from './cli.js';
import { EXIT_FAILURE, type Io } from './output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const io: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  now: () => Date.now() / 1000,
  env: process.env,
  stdin: readStdin,
};

run(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`jwt-sessions: ${String(error)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
