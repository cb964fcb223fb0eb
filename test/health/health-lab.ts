/**
 * Health lab: installed-looking NixOS hosts for `bootstrap status`, each a real OpenSSH sshd in its
 * own network namespace (test/helpers/netns.ts) with a private mount namespace where
 *   /run  holds current-system, booted-system, secrets → secrets.d/1, agenix → agenix.d/1, the age key
 *   /nix  holds a fake store (the system's activate script, the sops-nix manifest) and the profile links
 *   /etc  is a copy of the real one plus nix/nix.conf, nix/netrc and a NixOS os-release
 *   /root is empty (no ~/.bashrc of the machine running the lab in every session)
 * are real files in per-host directories, and `systemctl`, `timedatectl`, `findmnt`, `swapon`,
 * `lsblk` and `df` are shims first on PATH printing what the case arranges. Binary caches are tiny
 * HTTP servers on the namespace bridge answering /nix-cache-info (one can be stopped). The flake
 * gets a manifest, a built.json and the pinned host key of every host. `teardown()` removes all of
 * it, also when a test fails (and on exit, through the netns lab's own cleanup).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildManifestToml } from '../../src/manifest/manifest.js';
import { createNetnsLab, type NetnsHost, type NetnsLab } from '../helpers/netns.js';

export const KEY_PATH = '/run/sops-nix/key.txt';
export const CACHE_KEY = 'main:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=';
const NETRC_TOKEN = 'lab-pull-token';
/** The system.configurationRevision every lab host's system carries. */
export const LAB_REVISION = '0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6';

export interface LabCache {
  url: string;
  readonly hits: number;
  stop(): Promise<void>;
}

export interface HealthHostSpec {
  name: string;
  state?: string;
  failedUnits?: string[];
  /** 'armed' (default), 'inactive', or 'none' (no backups configured, no timer). */
  timer?: 'armed' | 'inactive' | 'none';
  /** 'present' (default) or 'missing' (restic-password was not decrypted). */
  secrets?: 'present' | 'missing';
  /** The host runs the system in built.json ('built', default) or another one. */
  generation?: 'built' | 'other';
  /**
   * The manifest's [login] user (issue 18): an account `user` (uid 1500) holding the lab's client key,
   * with `sudo: true` a NOPASSWD: ALL sudoers entry, else none (sudo -n refuses it).
   */
  login?: { user: string; sudo: boolean };
  cache: LabCache;
}

export interface HealthHost {
  spec: HealthHostSpec;
  net: NetnsHost;
}

export interface HealthLab {
  flakeDir: string;
  clientKey: string;
  /** Environment for the CLI: HOME without the user's known_hosts, no agent. */
  env: Record<string, string | undefined>;
  addCache(opts?: { private?: boolean }): Promise<LabCache>;
  addHost(spec: HealthHostSpec): Promise<HealthHost>;
  /** A manifest whose target no sshd answers (connection refused). */
  addUnreachable(name: string, cache: LabCache): Promise<void>;
  teardown(): Promise<void>;
}

const hash = (n: number, c: string) => c.repeat(32).slice(0, 31) + String(n % 10);
const storePath = (name: string, variant: string) => `/nix/store/${hash(name.length, variant)}-nixos-system-${name}-24.11`;

function writeExe(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o755 });
}

/** The shims of one host: each prints the arranged output for the arguments the script uses. */
function writeShims(dir: string, s: HealthHostSpec): void {
  mkdirSync(dir, { recursive: true });
  const failed = (s.failedUnits ?? []).map((u) => `${u} loaded failed failed ${u} service`).join('\\n');
  const timer = s.timer ?? 'armed';
  const timerShow = timer === 'armed'
    ? 'ActiveState=active\\nNextElapseUSecRealtime=Wed 2026-12-02 00:00:00 UTC\\nLastTriggerUSec=Tue 2026-12-01 00:00:03 UTC'
    : 'ActiveState=inactive\\nNextElapseUSecRealtime=\\nLastTriggerUSec=n/a';
  writeExe(join(dir, 'systemctl'), [
    '#!/bin/sh',
    '# FAKE systemctl of the health lab (test/health/health-lab.ts)',
    'case "$*" in',
    `  is-system-running*) echo ${s.state ?? ((s.failedUnits ?? []).length ? 'degraded' : 'running')} ;;`,
    `  *--failed*) printf '${failed}${failed ? '\\n' : ''}' ;;`,
    `  list-timers*) ${timer === 'none' ? ':' : `printf 'Wed 2026-12-02 00:00:00 UTC 1h left Tue 2026-12-01 00:00:03 UTC 23h ago restic-backups-bootstrap.timer restic-backups-bootstrap.service\\n'`} ;;`,
    `  *restic-backups-bootstrap.timer*) printf '${timerShow}\\n' ;;`,
    `  *restic-backups-bootstrap.service*) printf 'ActiveState=inactive\\nResult=success\\nExecMainStatus=0\\nExecMainExitTimestamp=Tue 2026-12-01 00:02:11 UTC\\n' ;;`,
    '  *) echo "systemctl shim: unexpected: $*" >&2; exit 1 ;;',
    'esac',
    '',
  ].join('\n'));
  writeExe(join(dir, 'timedatectl'), "#!/bin/sh\nprintf 'NTP=yes\\nNTPSynchronized=yes\\n'\n");
  writeExe(join(dir, 'findmnt'), "#!/bin/sh\nprintf '/ /dev/vda2 ext4 rw,relatime\\n/proc proc proc rw\\n'\n");
  writeExe(join(dir, 'swapon'), '#!/bin/sh\nexit 0\n');
  writeExe(join(dir, 'lsblk'), '#!/bin/sh\nexit 0\n');
  writeExe(join(dir, 'df'), "#!/bin/sh\nprintf 'Filesystem 1024-blocks Used Available Capacity Mounted on\\n/dev/vda2 40000000 12000000 27000000 31%% /\\n'\n");
}

/** The private /run, /nix, /etc and /root of one host. */
function writeHostFs(fs: string, s: HealthHostSpec, running: string, gateway: string, shimDir: string): void {
  // root's home as on a fresh NixOS host: no ~/.bashrc. sshd runs every command through root's login
  // shell, and bash sources ~/.bashrc for it, so the build machine's own (pyenv init: ~1 s of CPU)
  // would otherwise run on every exec of every lab host.
  mkdirSync(join(fs, 'root'), { recursive: true, mode: 0o700 });
  const run = join(fs, 'run');
  const nix = join(fs, 'nix');
  const etc = join(fs, 'etc');
  mkdirSync(join(run, 'sshd'), { recursive: true });
  const store = join(nix, 'store');
  const sys = join(store, running.split('/').pop()!);
  mkdirSync(sys, { recursive: true });
  // sops-nix manifest, as modules/sops/manifest-for.nix writes it (builtins.toJSON, sorted keys).
  const manifest = '/nix/store/' + hash(3, 'm') + '-manifest.json';
  const secret = (name: string) => ({ format: 'yaml', gid: 0, group: null, key: name, mode: '0400', name, neededForUsers: false, owner: null, path: `/run/secrets/${name}`, reloadUnits: [], restartUnits: [], sopsFile: '/nix/store/x-secrets.yaml', sopsFileHash: '', uid: 0 });
  writeFileSync(join(nix, manifest.slice(5)), JSON.stringify({ ageKeyFile: KEY_PATH, ageSshKeyPaths: [], gnupgHome: null, keepGenerations: 1, secrets: [secret('attic-netrc'), secret('restic-password')], secretsMountPoint: '/run/secrets.d', sshKeyPaths: [], symlinkPath: '/run/secrets', templates: [], useTmpfs: false, userMode: false }));
  // The activation script: sops-nix's setupSecrets and agenix's install lines (modules/age.nix).
  writeExe(join(sys, 'activate'), [
    '#!/nix/store/bash/bin/bash',
    '# setupSecrets',
    '[ -e /run/current-system ] || echo setting up secrets...',
    `/nix/store/${hash(4, 's')}-sops-install-secrets-0.0.1/bin/sops-install-secrets ${manifest}`,
    '# agenixNewGeneration',
    '_agenix_generation="$(basename "$(readlink /run/agenix)" || echo 0)"',
    'mkdir -p "/run/agenix.d/$_agenix_generation"',
    '# agenixInstall',
    "echo '[agenix] decrypting secrets...'",
    '_truePath="/run/agenix.d/$_agenix_generation/db-password"',
    '',
    `echo "decrypting '/nix/store/${hash(5, 'a')}-db-password.age' to '$_truePath'..."`,
    'TMP_FILE="$_truePath.tmp"',
    '[ "/etc/db-password" != "/run/agenix/db-password" ] && mkdir -p "$(dirname "/etc/db-password")"',
    'mv -f "$TMP_FILE" "$_truePath"',
    '[ "/etc/db-password" != "/run/agenix/db-password" ] && ln -sfT "/run/agenix/db-password" "/etc/db-password"',
    'ln -sfT "/run/agenix.d/$_agenix_generation" /run/agenix',
    '',
  ].join('\n'));
  // The toplevel's boot files (compared for "needs reboot") and nixos-version, which prints the
  // flake's system.configurationRevision (nixpkgs nixos/modules/installer/tools/nixos-version.sh).
  for (const [f, target] of [['kernel', '/nix/store/k-linux-6.6.63/bzImage'], ['initrd', '/nix/store/i-initrd-linux-6.6.63/initrd'], ['kernel-modules', '/nix/store/m-linux-6.6.63-modules']] as const) {
    symlinkSync(target, join(sys, f));
    mkdirSync(join(nix, target.slice(5)), { recursive: true });
  }
  mkdirSync(join(sys, 'sw/bin'), { recursive: true });
  writeExe(join(sys, 'sw/bin/nixos-version'), `#!/bin/sh\ncase "$1" in --configuration-revision) echo ${LAB_REVISION} ;; *) echo "24.11 (Vicuna)" ;; esac\n`);
  symlinkSync(running, join(run, 'current-system'));
  symlinkSync(running, join(run, 'booted-system'));
  mkdirSync(join(nix, 'var/nix/profiles'), { recursive: true });
  symlinkSync(running, join(nix, 'var/nix/profiles/system-2-link'));
  symlinkSync('system-2-link', join(nix, 'var/nix/profiles/system'));
  // Secrets as the activation left them.
  mkdirSync(join(run, 'secrets.d/1'), { recursive: true });
  symlinkSync('/run/secrets.d/1', join(run, 'secrets'));
  writeFileSync(join(run, 'secrets.d/1/attic-netrc'), `machine ${gateway}\nlogin bootstrap\npassword ${NETRC_TOKEN}\n`, { mode: 0o400 });
  if ((s.secrets ?? 'present') === 'present') writeFileSync(join(run, 'secrets.d/1/restic-password'), 'x', { mode: 0o400 });
  mkdirSync(join(run, 'agenix.d/1'), { recursive: true });
  symlinkSync('/run/agenix.d/1', join(run, 'agenix'));
  writeFileSync(join(run, 'agenix.d/1/db-password'), 'x', { mode: 0o400 });
  mkdirSync(join(run, 'sops-nix'), { mode: 0o700 });
  writeFileSync(join(fs, KEY_PATH.slice(1)), 'AGE-SECRET-KEY-1LAB\n', { mode: 0o600 });
  chmodSync(join(fs, KEY_PATH.slice(1)), 0o600);
  // /etc: the machine's own, plus what a NixOS host has.
  cpSync('/etc', etc, { recursive: true, verbatimSymlinks: true });
  rmSync(join(etc, 'os-release'), { force: true });
  writeFileSync(join(etc, 'os-release'), 'NAME=NixOS\nID=nixos\nVERSION_ID="24.11"\nPRETTY_NAME="NixOS 24.11 (Vicuna)"\n');
  symlinkSync('/run/agenix/db-password', join(etc, 'db-password'));
  if (s.login) {
    const u = s.login.user;
    // sudo resolves the host's own name: from /etc/hosts, as on NixOS, not by a DNS query that times out here.
    appendFileSync(join(etc, 'hosts'), `127.0.1.1 ${s.name}\n`);
    appendFileSync(join(etc, 'passwd'), `${u}:x:1500:1500:lab admin:/var/empty:/bin/sh\n`);
    appendFileSync(join(etc, 'group'), `${u}:x:1500:\n`);
    appendFileSync(join(etc, 'shadow'), `${u}:*:19000:0:99999:7:::\n`);
    // sudo resets PATH to secure_path: the host's shims stay first, as sshd's SetEnv puts them.
    if (s.login.sudo) appendFileSync(join(etc, 'sudoers'), `Defaults:${u} secure_path="${shimDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n${u} ALL=(ALL) NOPASSWD: ALL\n`);
  }
  mkdirSync(join(etc, 'nix'), { recursive: true });
  writeFileSync(join(etc, 'nix/nix.conf'), [
    '# Generated by NixOS (health lab)',
    `substituters = ${s.cache.url}`,
    `trusted-public-keys = cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY= ${CACHE_KEY}`,
    'netrc-file = /run/secrets/attic-netrc',
    '',
  ].join('\n'));
}

export async function createHealthLab(): Promise<HealthLab> {
  const base = mkdtempSync('/var/tmp/nb-health-');
  chmodSync(base, 0o755);
  const flakeDir = join(base, 'flake');
  mkdirSync(join(flakeDir, 'hosts'), { recursive: true });
  writeFileSync(join(flakeDir, 'flake.nix'), '{ outputs = _: { }; }\n');
  writeFileSync(join(flakeDir, 'bootstrap.toml'), `[sops]\nkeyPath = "${KEY_PATH}"\n`);
  mkdirSync(join(flakeDir, '.bootstrap'), { recursive: true });
  const home = join(base, 'home');
  mkdirSync(home);
  const clientKey = join(base, 'client_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'health-lab', '-f', clientKey]);
  const authorized = join(base, 'authorized_keys');
  writeFileSync(authorized, readFileSync(`${clientKey}.pub`));
  let netns: NetnsLab;
  try {
    netns = await createNetnsLab({ tmpRoot: base });
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    throw e;
  }
  const servers: Server[] = [];
  const hostCount = { n: 0 };

  const writeFlakeHost = (name: string, target: string, spec: HealthHostSpec, built: string) => {
    mkdirSync(join(flakeDir, 'hosts', name), { recursive: true });
    writeFileSync(join(flakeDir, 'hosts', name, 'bootstrap.toml'), buildManifestToml({
      version: 1, host: name, target, profile: 'generic-vps',
      layout: { name: 'single-ext4', swapBytes: 0 },
      installDisk: { path: '/dev/disk/by-id/virtio-lab', byId: '/dev/disk/by-id/virtio-lab', sizeBytes: 40e9 },
      cache: { enable: true, substituter: spec.cache.url, publicKey: CACHE_KEY },
      ...(spec.timer === 'none' ? {} : { backup: { enable: true } }),
      ...(spec.login ? { login: { user: spec.login.user } } : {}),
    }));
    const state = join(flakeDir, '.bootstrap/state', name);
    mkdirSync(state, { recursive: true });
    writeFileSync(join(state, 'built.json'), JSON.stringify({ kind: 'local', paths: { disko: '/nix/store/d-disko', toplevel: built } }) + '\n');
  };

  const lab: HealthLab = {
    flakeDir,
    clientKey,
    // The FAKE nix (test/fakes/nix) first on PATH: status evaluates each host's toplevel for drift.
    env: { HOME: home, SSH_AUTH_SOCK: undefined, PATH: `${fileURLToPath(new URL('../fakes', import.meta.url))}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    async addCache(opts = {}) {
      let hits = 0;
      const server = createServer((req, res) => {
        hits++;
        const auth = req.headers.authorization ?? '';
        const pass = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString().split(':')[1] : undefined;
        if (opts.private && pass !== NETRC_TOKEN) return void res.writeHead(401).end('unauthorized\n');
        if (req.url?.endsWith('/nix-cache-info')) return void res.writeHead(200, { 'content-type': 'text/x-nix-cache-info' }).end('StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 41\n');
        res.writeHead(404).end();
      });
      servers.push(server);
      await new Promise<void>((r, j) => { server.once('error', j); server.listen(0, netns.gateway, () => r()); });
      const port = (server.address() as { port: number }).port;
      return {
        url: `http://${netns.gateway}:${port}/main`,
        get hits() { return hits; },
        stop: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
      };
    },
    async addHost(spec) {
      const dir = join(base, 'hosts', spec.name);
      const fs = join(dir, 'fs');
      const built = storePath(spec.name, 'b');
      const running = spec.generation === 'other' ? storePath(spec.name, 'o') : built;
      writeShims(join(dir, 'shims'), spec);
      writeHostFs(fs, spec, running, netns.gateway, join(dir, 'shims'));
      const net = await netns.addHost({
        shimDir: join(dir, 'shims'),
        hostname: spec.name,
        authorizedKeysFile: authorized,
        mounts: [
          { target: '/run', source: join(fs, 'run') }, { target: '/nix', source: join(fs, 'nix') }, { target: '/etc', source: join(fs, 'etc') },
          { target: '/root', source: join(fs, 'root') },
        ],
      });
      hostCount.n++;
      writeFlakeHost(spec.name, net.target, spec, built);
      const pub = readFileSync(`${net.hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
      appendFileSync(join(flakeDir, '.bootstrap/known_hosts'), `${net.ip} ${pub}\n`);
      return { spec, net };
    },
    async addUnreachable(name, cache) {
      // An address on the bridge's subnet no namespace holds: the gateway answers with a refusal
      // on an unused port, so the connect fails at once.
      writeFlakeHost(name, `root@${netns.gateway}:1`, { name, cache }, storePath(name, 'b'));
    },
    async teardown() {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
      await netns.teardown();
      rmSync(base, { recursive: true, force: true });
    },
  };
  return lab;
}
