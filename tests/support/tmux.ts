import { execFileSync } from 'node:child_process';
import { afterEach } from 'vitest';

// Programs that read a secret only from a terminal (the `age` CLI, `sotto`'s
// prompt) run inside a tmux server of the test's own, typed at with send-keys.

/**
 * A tmux command runner on a server private to this file (`name` and the pid);
 * the server is killed after each test.
 */
export function useTmux(name: string): (...args: string[]) => string {
  const socket = `sotto-${name}-${process.pid}`;
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  afterEach(() => {
    try {
      tmux('kill-server');
    } catch {
      // no server left: nothing to clean up
    }
  });
  return tmux;
}
