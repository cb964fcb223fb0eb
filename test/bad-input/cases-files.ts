/** Bad bootstrap.toml keys and bad answers files (every field: wrong type, wrong value). */
import { join } from 'node:path';
import { REPORTS, rotate, type Case } from './harness.js';

const R = join(REPORTS, 'ovh-vps.json');

/** bootstrap.toml texts; every one must be refused by any command that reads the config. */
export const BAD_CONFIGS: Array<[string, string]> = [
  ['syntax error', 'hostsDir = \n'],
  ['unterminated string', 'hostsDir = "hosts\n'],
  ['unknown top-level key', 'hostDir = "hosts"\n'],
  ['unknown section', '[secret]\nstore = "local"\n'],
  ['hostsDir number', 'hostsDir = 1\n'],
  ['hostsDir absolute', 'hostsDir = "/etc"\n'],
  ['hostsDir ..', 'hostsDir = "../x"\n'],
  ['hostsDir empty', 'hostsDir = ""\n'],
  ['hostsDir NUL', 'hostsDir = "a\\u0000b"\n'],
  ['stateDir escaping', 'stateDir = "a/../../x"\n'],
  ['stateDir home', 'stateDir = "~/state"\n'],
  ['secrets not a table', 'secrets = "local"\n'],
  ['secrets.store unknown', '[secrets]\nstore = "vault"\n'],
  ['secrets.store number', '[secrets]\nstore = 1\n'],
  ['secrets unknown key', '[secrets]\nstores = "local"\n'],
  ['secrets.local.dir absolute', '[secrets.local]\ndir = "/root/vault"\n'],
  ['secrets.local.recipients string', '[secrets.local]\nrecipients = "age1x"\n'],
  ['secrets.local.recipients numbers', '[secrets.local]\nrecipients = [1, 2]\n'],
  ['secrets.local.identityFile bool', '[secrets.local]\nidentityFile = true\n'],
  ['secrets.local unknown key', '[secrets.local]\ndirectory = "x"\n'],
  ['onepassword without vault', '[secrets.onepassword]\naccount = "me"\n'],
  ['onepassword vault number', '[secrets.onepassword]\nvault = 7\n'],
  ['sops.mode unknown', '[sops]\nmode = "vault"\n'],
  ['sops.file absolute', '[sops]\nfile = "/etc/sops.yaml"\n'],
  ['sops.file escaping', '[sops]\nfile = "../other/.sops.yaml"\n'],
  ['sops.agenixFile absolute', '[sops]\nagenixFile = "/etc/secrets.nix"\n'],
  ['sops.rules string', '[sops]\nrules = "secrets/.*"\n'],
  ['sops.keyPath number', '[sops]\nkeyPath = 5\n'],
  ['sops unknown key', '[sops]\nmodes = "sops"\n'],
  ['storage entry not a table', '[storage]\nb2 = "b2"\n'],
  ['storage provider unknown', '[storage.b2]\nprovider = "gcs"\n'],
  ['storage provider missing', '[storage.b2]\nbucket = "x"\n'],
  ['storage forcePathStyle string', '[storage.b2]\nprovider = "b2"\nforcePathStyle = "yes"\n'],
  ['storage unknown key', '[storage.b2]\nprovider = "b2"\nbuckett = "x"\n'],
  ['cache.tokenDays 0', '[cache]\ntokenDays = 0\n'],
  ['cache.tokenDays -5', '[cache]\ntokenDays = -5\n'],
  ['cache.tokenDays fraction', '[cache]\ntokenDays = 1.5\n'],
  ['cache.public string', '[cache]\npublic = "yes"\n'],
  ['cache unknown key', '[cache]\nservers = "web1"\n'],
  ['backup.paths string', '[backup]\npaths = "/srv"\n'],
  ['backup.pruneOpts numbers', '[backup]\npruneOpts = [7]\n'],
  ['backup unknown key', '[backup]\npath = ["/srv"]\n'],
];

const CONFIG_COMMANDS: Array<[string, string[], boolean?]> = [
  ['plan', ['plan', 'web1', '--report', R]],
  ['keys show', ['keys', 'show', 'web1']],
  ['rebuild', ['rebuild', 'web1', '--yes', '--dry-run', '--target', 'root@127.0.0.1:1'], true],
  ['cache setup', ['cache', 'setup', '--server', 'web1', '--dry-run']],
];

export const CONFIG_CASES: Case[] = BAD_CONFIGS.flatMap(([what, toml], i) =>
  rotate(CONFIG_COMMANDS, i, i % 3 === 0 ? 2 : 1).map(([cmd, args, manifest]): Case => ({
    name: `bootstrap.toml ${what}: ${cmd}`,
    args,
    flake: { 'bootstrap.toml': toml },
    ...(manifest ? { manifest } : {}),
    expect: /bootstrap\.toml/,
  })),
);

/** Answers-file fields with a wrong type or value; the rest of the file is valid. */
const BAD_ANSWERS: Array<[string, Record<string, unknown>, RegExp?]> = [
  ['host number', { host: 1 }],
  ['host uppercase', { host: 'Web1' }, /host name/],
  ['host keyword', { host: 'let' }, /Nix keyword/],
  ['target number', { target: 22 }],
  ['target newline', { target: 'root@h\nx' }, /SSH target/],
  ['target option', { target: '-oProxyCommand=x' }, /SSH target/],
  ['identity missing file', { identity: '/nonexistent/key' }, /nonexistent/],
  ['identity array', { identity: ['a'] }],
  ['hostKey garbage', { hostKey: 'abc' }, /fingerprint/],
  ['acceptNewHostKey string', { acceptNewHostKey: 'yes' }],
  ['timeout 0', { timeout: 0 }],
  ['timeout negative', { timeout: -1 }],
  ['timeout string', { timeout: '10' }],
  ['passwordEnv bad name', { passwordEnv: 'A B' }, /password-env|NAME/],
  ['passwordEnv unset', { passwordEnv: 'NB_SURELY_UNSET_VAR' }, /NB_SURELY_UNSET_VAR/],
  ['profile number', { profile: 3 }],
  ['layout unknown', { layout: 'zfs' }, /layout/],
  ['layout number', { layout: 1 }],
  ['disk number', { disk: 0 }],
  ['secondDisk bool', { secondDisk: true }],
  ['swap 8X', { swap: '8X' }, /swap "8X" is not a size/],
  ['swap -1G', { swap: '-1G' }, /not a size/],
  ['swap 1e999G', { swap: '1e999G' }, /not a size/],
  ['swap huge', { swap: '99999999999999999999T' }, /too large/],
  ['swap empty', { swap: '' }, /not a size/],
  ['swap number', { swap: 8 }],
  ['hibernate string', { hibernate: 'true' }],
  ['encrypt number', { encrypt: 1 }],
  ['subvolumes string', { subvolumes: 'home' }],
  ['subvolumes numbers', { subvolumes: [1] }],
  ['copyHostKeys string', { copyHostKeys: 'no' }],
  ['buildOn unknown', { buildOn: 'cloud' }],
  ['noDiskoDeps string', { noDiskoDeps: 'x' }],
  ['yes string', { yes: 'y' }],
  ['confirmDisk number', { confirmDisk: 1 }],
  ['waitTimeout 0', { waitTimeout: 0 }],
  ['waitTimeout string', { waitTimeout: '600' }],
  ['postKexecPort 0', { postKexecPort: 0 }],
  ['postKexecPort 65536', { postKexecPort: 65536 }],
  ['postKexecPort fraction', { postKexecPort: 22.5 }],
  ['phaseTimeouts unknown phase', { phaseTimeouts: { kexex: '10m' } }, /kexex/],
  ['phaseTimeouts __proto__', { phaseTimeouts: { ['__proto__']: '10m' } }, /__proto__/],
  ['phaseTimeouts constructor', { phaseTimeouts: { constructor: '10m' } }, /constructor/],
  ['phaseTimeouts bad duration', { phaseTimeouts: { install: 'soon' } }, /duration/],
  ['phaseTimeouts not a table', { phaseTimeouts: '10m' }],
  ['unknown key', { traget: 'root@h' }, /unknown key traget/],
  ['top level array', [] as unknown as Record<string, unknown>],
];

const VALID = { host: 'web1', target: 'root@127.0.0.1:1' };

export const ANSWERS_CASES: Case[] = BAD_ANSWERS.flatMap(([what, fields, re], i): Case[] => {
  const doc = Array.isArray(fields) ? fields : { ...VALID, ...fields };
  const json = JSON.stringify(doc); // a computed ["__proto__"] key is an own key, and JSON keeps it
  const cases: Case[] = [{ name: `answers ${what}: new-host (JSON)`, args: ['new-host', '--answers', '{in}/a.json'], inputs: { 'a.json': json }, ...(re ? { expect: re } : {}) }];
  if (i % 3 === 0) cases.push({ name: `answers ${what}: rebuild (JSON)`, args: ['rebuild', 'web1', '--answers', '{in}/a.json'], inputs: { 'a.json': json }, manifest: true, ...(re ? { expect: re } : {}) });
  return cases;
});

export const ANSWERS_FILE_CASES: Case[] = [
  { name: 'answers: missing file', args: ['new-host', '--answers', '{in}/none.toml'], expect: /no such file/ },
  { name: 'answers: a directory', args: ['new-host', '--answers', '{in}'] },
  { name: 'answers: TOML syntax', args: ['new-host', '--answers', '{in}/a.toml'], inputs: { 'a.toml': 'host = \n' } },
  { name: 'answers: truncated JSON', args: ['new-host', '--answers', '{in}/a.json'], inputs: { 'a.json': '{"host": "web1",' }, expect: /not valid JSON/ },
  { name: 'answers: TOML swap 8X', args: ['new-host', '--answers', '{in}/a.toml'], inputs: { 'a.toml': 'host = "web1"\ntarget = "root@127.0.0.1:1"\nswap = "8X"\n' }, expect: /swap "8X" is not a size/ },
  { name: 'answers: TOML ESC in a value', args: ['new-host', '--answers', '{in}/a.toml'], inputs: { 'a.toml': 'host = "web\\u001b[2J"\n' }, expect: /host name/ },
];
