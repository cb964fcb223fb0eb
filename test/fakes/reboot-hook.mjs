#!/usr/bin/env node
// FAKE reboot for the FAKE nixos-anywhere: FAKE_NA_REBOOT_CMD="node test/fakes/reboot-hook.mjs".
// The fake calls it with one argument — the path of the provisioned host key in the extra-files
// tree, or "--copy-host-keys" — and this asks the test process (test/helpers/reboot-hook.ts, at
// $FAKE_NA_REBOOT_URL) to restart the target's sshd accordingly. It passes the path, never the key.
const url = process.env.FAKE_NA_REBOOT_URL;
if (!url) {
  process.stderr.write('reboot-hook: FAKE_NA_REBOOT_URL is not set\n');
  process.exit(2);
}
const arg = process.argv[2] ?? '';
const targetHost = process.argv[3];
const body = { ...(arg === '--copy-host-keys' ? { copyHostKeys: true } : { hostKeyPath: arg }), ...(targetHost ? { targetHost } : {}) };
const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
if (!res.ok) {
  process.stderr.write(`reboot-hook: ${res.status} ${await res.text()}\n`);
  process.exit(1);
}
