import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProbeScript, PROBE_COMMAND } from './script.js';
import { parseProbeOutput } from './parse.js';

const which = (cmd: string) => ['/usr/bin', '/bin'].map((d) => join(d, cmd)).find((p) => existsSync(p));

function runUnder(shell: string, env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(shell, ['-s'], { input: loadProbeScript(), encoding: 'utf8', env, timeout: 60_000 });
}

describe('probe.sh', () => {
  it('is what PROBE_COMMAND runs: sh reading the script on stdin', () => {
    assert.equal(PROBE_COMMAND, 'sh -s');
    assert.match(loadProbeScript(), /^main\(\) \{$/m);
  });

  it('passes sh -n (and dash -n)', () => {
    for (const sh of ['sh', which('dash')].filter(Boolean) as string[]) {
      const r = spawnSync(sh, ['-n'], { input: loadProbeScript(), encoding: 'utf8' });
      assert.equal(r.status, 0, `${sh} -n: ${r.stderr}`);
    }
  });

  for (const shell of ['dash', 'bash']) {
    it(`runs under ${shell} on this machine, exits 0 and parses`, { skip: which(shell) ? false : `${shell} not installed` }, () => {
      const r = runUnder(which(shell)!);
      assert.equal(r.status, 0, r.stderr);
      const report = parseProbeOutput(r.stdout);
      assert.equal(report.arch, process.arch === 'arm64' ? 'aarch64-linux' : 'x86_64-linux');
      // The IPv4 default route as this machine's routing table has it (destination 00000000).
      const hasDefault = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1).some((l) => l.split(/\s+/)[1] === '00000000');
      assert.deepEqual(report.reach, { ipv4DefaultRoute: hasDefault });
    });
  }

  it('runs under busybox sh with only busybox applets on PATH', { skip: which('busybox') ? false : 'busybox not installed (apt-get install busybox)' }, () => {
    const bin = mkdtempSync(join(tmpdir(), 'nb-busybox-'));
    try {
      const applets = spawnSync(which('busybox')!, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      for (const a of applets) symlinkSync(which('busybox')!, join(bin, a));
      const r = spawnSync(join(bin, 'sh'), ['-s'], { input: loadProbeScript(), encoding: 'utf8', env: { PATH: bin }, timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /@@nb-probe end\n$/);
      const report = parseProbeOutput(r.stdout);
      assert.ok(report.disks.length > 0, 'disks');
      assert.ok(report.memoryBytes > 0, 'memory');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('a command that reads stdin cannot eat the rest of the script', () => {
    // Everything runs inside main() with stdin from /dev/null; the end marker proves the whole script ran.
    const r = runUnder('sh');
    assert.match(r.stdout, /@@nb-probe end\n$/);
  });
});
