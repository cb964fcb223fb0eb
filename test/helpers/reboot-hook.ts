/**
 * The harness side of the FAKE nixos-anywhere's reboot phase: a loopback HTTP endpoint that
 * restarts a target's sshd with the provisioned host key (from the extra-files tree) or, for
 * --copy-host-keys, with the key it already had. `env` goes into the fake's environment.
 */
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

export interface RebootTarget {
  /** Restart sshd with this private key (its .pub beside it); undefined: keep the current key. */
  restart(hostKeyPath: string | undefined, targetHost?: string): Promise<void>;
}

export interface RebootHook {
  env: Record<string, string>;
  /** What the fake asked for, in order: a key path or "--copy-host-keys". */
  calls: string[];
  close(): Promise<void>;
}

const SCRIPT = fileURLToPath(new URL('../fakes/reboot-hook.mjs', import.meta.url));

export async function startRebootHook(target: RebootTarget): Promise<RebootHook> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      void (async () => {
        try {
          const msg = JSON.parse(body) as { hostKeyPath?: string; copyHostKeys?: boolean; targetHost?: string };
          calls.push(msg.copyHostKeys ? '--copy-host-keys' : msg.hostKeyPath ?? '');
          await target.restart(msg.copyHostKeys ? undefined : msg.hostKeyPath, msg.targetHost);
          res.writeHead(200).end('ok');
        } catch (e) {
          res.writeHead(500).end(String(e));
        }
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    env: { FAKE_NA_REBOOT_CMD: `${process.execPath} ${SCRIPT}`, FAKE_NA_REBOOT_URL: `http://127.0.0.1:${port}/reboot` },
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
