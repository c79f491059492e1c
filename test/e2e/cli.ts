import { type ChildProcess, spawn } from 'node:child_process';

/** Runs the real `driftline` command as a separate process, the way users and scripts do. */
export function driftline(args: string[], env: NodeJS.ProcessEnv): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['bin/driftline.js', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return Object.assign(child, { output: () => output });
}

export const exitOf = (child: ChildProcess) =>
  new Promise<number | null>((resolve) =>
    child.exitCode !== null || child.signalCode !== null
      ? resolve(child.exitCode)
      : child.once('exit', (code) => resolve(code)),
  );

/** Runs a driftline command to completion; fails with its output when it does not exit 0. */
export async function driftlineOk(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const child = driftline(args, env);
  const code = await exitOf(child);
  if (code !== 0) throw new Error(`driftline ${args.join(' ')} exited ${code}:\n${child.output()}`);
  return child.output();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
