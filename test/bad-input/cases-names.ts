/** Bad SSH targets and host names, through every command that takes one. */
import { join } from 'node:path';
import { REPORTS, rotate, type Case } from './harness.js';

const LONG = 'a'.repeat(300);

export const BAD_TARGETS: Array<[string, string]> = [
  ['empty', ''],
  ['spaces', '   '],
  ['space inside', 'root@host name'],
  ['newline', 'root@host\nfoo'],
  ['carriage return', 'root@host\rfoo'],
  ['tab', 'root@\thost'],
  ['ESC sequence', 'root@h\u001b[31mred'],
  ['OSC 52', 'root@h\u001b]52;c;aGk=\u0007'],
  ['DEL', 'root@host\u007f'],
  ['ssh option', '-oProxyCommand=touch /tmp/nb-pwned'],
  ['ssh option as host', 'root@-oProxyCommand=x'],
  ['ssh option in URL', 'ssh://-oProxyCommand=x'],
  ['only user', 'root@'],
  ['only @', '@'],
  ['port 0', 'root@127.0.0.1:0'],
  ['port 65536', 'root@127.0.0.1:65536'],
  ['port abc', 'root@127.0.0.1:abc'],
  ['port empty', 'root@127.0.0.1:'],
  ['port negative', 'root@127.0.0.1:-1'],
  ['port 6 digits', 'root@127.0.0.1:000022'],
  ['two ports', 'root@127.0.0.1:22:22'],
  ['IPv6 bracket not closed', 'root@[2001:db8::1'],
  ['IPv6 bracket not opened', 'root@2001:db8::1]:22'],
  ['IPv6 no colon before port', 'root@[2001:db8::1]22'],
  ['IPv6 bad digits', 'root@[zzzz::1]:22'],
  ['IPv6 empty brackets', 'root@[]:22'],
  ['IPv6 port 0', 'root@[::1]:0'],
  ['33-char user', `${'u'.repeat(33)}@127.0.0.1`],
  ['300-char user', `${LONG}@127.0.0.1`],
  ['300-char user, host name', `${LONG}@web1.example.com`],
  ['BEL in user', 'ro\u0007ot@127.0.0.1'],
  ['SOH in host', 'root@127.0.0.1\u0001'], // (a NUL cannot be in argv at all)
  ['C1 CSI in host', 'root@h\u009b2J'],
  ['user with ;', 'ro;ot@127.0.0.1'],
  ['user with $()', '$(id)@127.0.0.1'],
  ['user with backtick', '`id`@127.0.0.1'],
  ['host with ;', 'root@host;id'],
  ['host with underscore', 'root@ho_st'],
  ['host with slash', 'root@host/evil'],
  ['host with ..', 'root@host..com'],
  ['host starting with .', 'root@.host'],
  ['unicode host', 'root@hóst'],
  ['300-char host', `root@${LONG}`],
  ['label of 64', `root@${'b'.repeat(64)}.com`],
];

const TARGET_COMMANDS: Array<[string, (t: string) => string[], boolean?]> = [
  ['probe', (t) => ['probe', t]],
  ['plan', (t) => ['plan', 'web1', '--target', t]],
  ['new-host', (t) => ['new-host', 'web1', '--target', t]],
  ['rebuild', (t) => ['rebuild', 'web1', '--yes', '--target', t], true],
  ['recover', (t) => ['recover', 'web1', '--yes', '--target', t], true],
];

// Each target through two of the commands, in turn (every command sees every kind of target).
export const TARGET_CASES: Case[] = BAD_TARGETS.flatMap(([what, t], i) =>
  rotate(TARGET_COMMANDS, i * 2, 2).map(([cmd, argv, manifest]): Case => ({
    name: `target ${what}: ${cmd}`,
    args: argv(t),
    ...(manifest ? { manifest } : {}),
    // probe's -o is --out: "-oProxyCommand=…" is refused as a bad --out path there.
    ...(t.trim() === '' ? {} : { expect: /is not an SSH target|looks like a flag|^error: --out / }),
  })),
);

export const BAD_HOSTS: Array<[string, string]> = [
  ['uppercase', 'Web1'],
  ['all caps', 'WEB'],
  ['300 chars', LONG],
  ['64 chars', 'c'.repeat(64)],
  ['..', '..'],
  ['.', '.'],
  ['path', '../etc'],
  ['slash', 'a/b'],
  ['Nix keyword if', 'if'],
  ['Nix keyword let', 'let'],
  ['Nix keyword in', 'in'],
  ['leading hyphen', '-web'],
  ['trailing hyphen', 'web-'],
  ['underscore', 'web_1'],
  ['unicode', 'wéb'],
  ['newline', 'web\n1'],
  ['ESC', 'web\u001b[2J'],
  ['space', 'web 1'],
  ['dot', 'web.example'],
];

const R = join(REPORTS, 'ovh-vps.json');
const HOST_COMMANDS: Array<[string, (h: string) => string[]]> = [
  ['plan', (h) => ['plan', h, '--report', R]],
  ['keys ensure', (h) => ['keys', 'ensure', h]],
  ['keys show', (h) => ['keys', 'show', h]],
  ['new-host', (h) => ['new-host', h, '--target', 'root@127.0.0.1:1']],
  ['rebuild', (h) => ['rebuild', h, '--yes']],
  ['backup status', (h) => ['backup', 'status', h]],
];

export const HOST_CASES: Case[] = BAD_HOSTS.flatMap(([what, h], i) =>
  rotate(HOST_COMMANDS, i * 2, 2).map(([cmd, argv]): Case => ({
    name: `host ${what}: ${cmd}`,
    // "-web" reads as a flag: after "--" it is a positional, as a user would have to write it.
    args: h.startsWith('-') ? [...argv('x').filter((a) => a !== 'x'), '--', h] : argv(h),
    expect: h.startsWith('-') ? /host name|unexpected argument|missing/ : /host name|Nix keyword/,
  })),
);
