/**
 * A lab in which the REAL, unmodified nixos-anywhere.sh installs "machines" that are network
 * namespaces (netns.ts), with shims only where a machine or a network is missing:
 *
 * LOCAL side (`lab.env`): a bin dir with `nixos-anywhere` (test/fakes/nixos-anywhere-real, the real
 * script) and `nix` (test/fakes/nix, a strict FAKE that "builds" into $FAKE_NIX_STORE and really
 * copies over ssh), $FAKE_NIX_STORE and $FAKE_NIX_LOG.
 *
 * TARGET side (`lab.addTarget()`): an sshd in its own network and mount namespace with fake hardware
 * (fake-hardware.ts) and private directories bind-mounted over /mnt, /root, /home, /etc/ssh, /tmp,
 * /etc/{os-release,passwd,shadow,group,hosts,sudoers} and over $FAKE_NIX_STORE, so everything the
 * script does there (tar into /mnt, cp of host keys, ~/kexec, /tmp/secret.key) really happens,
 * privately. Shims first on its PATH: curl/wget (serve only the kexec tarball), nixos-install
 * (checks the closure under /mnt), reboot, nix (`config show system`), systemd-detect-virt
 * (`--container` → none) and nb-lab-hook, which asks this process over HTTP (on the bridge address)
 * to "kexec" or "reboot" the target: restart its sshd as the NixOS installer on port 22 with the
 * same host key (nixos-images keeps it), or as the installed system on its installed port with the
 * key found at /mnt/etc/ssh/ssh_host_ed25519_key. The script's own `sleep 6 && reboot` is kept.
 *
 * Test switches, files a test puts in the target's /tmp (`t.dir.tmp`), each used once (removed when
 * it acts), and kept across the kexec that empties /tmp otherwise:
 *   nb-lab-fail-disko    the disko script fails      nb-lab-fail-install  nixos-install fails
 *   nb-lab-slow-install  nixos-install first sleeps 60 s (a run to interrupt)
 *   nb-lab-failed-unit   the installed system boots with nb-lab-broken.service failed (installed-nixos.ts)
 *
 * `teardown()` ends everything (sshds, every process left in the namespaces, the hook server, the
 * namespaces, the temp dir), also after a failure; it is idempotent. Needs root (netnsSkipReason()).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';
import { buildFakeMachine } from './fake-hardware.js';
import { cleanupOnExit, createNetnsLab, type Mount, type NetnsHost } from './netns.js';
import { planBehind } from './bastion.js';
import { fingerprintOfPub } from './sshd.js';
import { bootInstalledSystem, leaveInstalledSystem } from './installed-nixos.js';

export type LabLogin = 'root' | 'nixos-installer' | 'root-password';

export interface LabTargetOptions {
  /** Fake hardware: a directory of test/fixtures/scenarios (default hetzner-cloud-bios). */
  scenario?: string;
  /** Port sshd listens on at first (default 22). After kexec the installer listens on 22. */
  port?: number;
  /** Port of the installed system after the reboot (default: `port`). */
  installedPort?: number;
  /**
   * root: root logs in with the client key (default). nixos-installer: the machine already is a
   * NixOS installer, `nixos` (uid 1000, passwordless sudo) holds the key, root has none.
   * root-password: root has no key, logs in with `rootPassword`.
   */
  login?: LabLogin;
  rootPassword?: string;
  /**
   * Issue 18: the installed system's sshd refuses root (PermitRootLogin no), and this user (uid 1001,
   * sudo without a password) holds the client key, as a flake with an admin in wheel and
   * `PermitRootLogin = "no"` installs it. root keeps its authorized keys (users.users.root's, in
   * /etc/ssh/authorized_keys.d/root), which the kexec installer takes (nixos-images).
   */
  installedLogin?: string;
  /** Host key of the installer after kexec: 'keep' (default, as nixos-images does) or 'fresh'. */
  installerKey?: 'keep' | 'fresh';
  /** Initial host key (private key path, .pub beside it); default a fresh one. */
  hostKeyPath?: string;
  /** How long the machine is unreachable during kexec and reboot (default 2000 ms). */
  downMs?: number;
  /**
   * The script reboots with `nohup sh -c 'sleep 6 && reboot'`. Default: those 6 s are real. A number
   * puts a `sleep` shim on the target that sleeps that long instead when asked for exactly 6 s.
   */
  rebootSleepSeconds?: number;
  /** Reachable only through this bastion (addBastion()): its sshd listens on a private link to it. */
  behind?: NetnsHost;
  /** No route to GitHub either: the curl/wget shims refuse the kexec image URL too (issue 20). */
  noGithub?: boolean;
  /** No IPv4 default route in its namespace (the probe sees none): only the lab's bridge is reachable. */
  noDefaultRoute?: boolean;
}

/** A file under the target's /mnt: its path there, its mode in octal as `stat -c %a` prints it ("600"). */
export interface LabFile { path: string; mode: string; type: 'file' | 'dir' | 'link' }

export interface LabTargetState {
  /** broken: sshd stopped (breakSsh); rescue: the provider's rescue system (bootRescue). */
  phase: 'original' | 'installer' | 'installed' | 'broken' | 'rescue';
  kexecs: number;
  reboots: number;
  rescues: number;
  /** /mnt/.disko-ran exists (the fake disko script ran). */
  diskoRan: boolean;
  /** The system path the fake nixos-install installed (/mnt/.nixos-installed), or null. */
  installed: string | null;
  /** What happened, in order (kexec, reboot, errors of the harness side). */
  events: string[];
  /** Every file under the target's /mnt now (same as LabTarget.mntFiles()). */
  mntFiles(): LabFile[];
}

export interface LabTarget {
  name: string;
  ip: string;
  /** The port sshd listens on now. */
  readonly port: number;
  /** The user that holds the client key at first (root, or nixos for the installer login). */
  user: 'root' | 'nixos';
  /** user@ip */
  target: string;
  clientKeyPath: string;
  /** SHA256:… of the host key sshd presents now, and its public line. */
  readonly fingerprint: string;
  readonly hostPub: string;
  /** The bind sources of the target's private directories (inspect them from the test). */
  dir: { base: string; mnt: string; tmp: string; root: string; home: string; etcSsh: string; store: string; run: string; varLib: string; etcNix: string };
  host: NetnsHost;
  state(): LabTargetState;
  /** Every file under the target's /mnt with its octal mode, paths as the target sees them. */
  mntFiles(): LabFile[];
  /** A broken host: its sshd stops and nothing answers on its address (issue 13). */
  breakSsh(): Promise<void>;
  /**
   * Boot the "rescue system" (what a provider's reset into rescue does): a fresh RAM system with
   * Debian's os-release, sshd on port 22 with `hostKeyPath` (default a fresh key), root logging in
   * with exactly `authorizedKeys` (the keys the provider API was given). The disk (/mnt) stays.
   */
  bootRescue(o: { authorizedKeys: string[]; hostKeyPath?: string }): Promise<void>;
  /** Wait (bounded) until `pred(state)` holds and no kexec/reboot is in flight. */
  waitFor(pred: (s: LabTargetState) => boolean, timeoutMs?: number): Promise<void>;
}

export interface InstallerLab {
  /** Environment for the LOCAL side: PATH (binDir first), FAKE_NIX_STORE, FAKE_NIX_LOG. */
  env: Record<string, string>;
  binDir: string;
  storeDir: string;
  nixLogPath: string;
  /** The bridge's address in the root namespace: a server the targets reach listens here. */
  gateway: string;
  /** The lab's kexec tarball (what the shims serve for the GitHub URL), to hand over as a local image. */
  kexecTarball: string;
  /** The calls the fake nix answered so far (FAKE_NIX_LOG). */
  nixCalls(): Array<{ kind: string; argv: string[] }>;
  addTarget(opts?: LabTargetOptions): Promise<LabTarget>;
  /** A plain host (sshd, root logs in with its clientKeyPath) to put targets behind (issue 20). */
  addBastion(): Promise<NetnsHost>;
  teardown(): Promise<void>;
}

const FAKES = join(REPO_ROOT, 'test/fakes');
const KEXEC_URL = /^https:\/\/(github\.com|gh-v6\.com)\/nix-community\/nixos-images\/releases\/download\/[^/]+\/nixos-kexec-installer-noninteractive-x86_64-linux\.tar\.gz$/;
const SYS_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const OS_RELEASE = {
  installer: 'NAME=NixOS\nID=nixos\nVERSION_ID="25.11"\nPRETTY_NAME="NixOS 25.11 (installer, installer lab)"\nVARIANT_ID=installer\n',
  installed: 'NAME=NixOS\nID=nixos\nVERSION_ID="25.05"\nPRETTY_NAME="NixOS 25.05 (installed, installer lab)"\n',
  rescue: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm) (rescue system, installer lab)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
};

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
function writeExe(path: string, body: string): void {
  writeFileSync(path, body);
  chmodSync(path, 0o755);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** /etc/passwd, group, shadow copies: the real ones, with `nixos` (uid 1000) and root's password. */
function accountFiles(rootHash: string | undefined, admin?: string): { passwd: string; group: string; shadow: string } {
  const keep = (file: string, drop: (f: string[]) => boolean) =>
    readFileSync(file, 'utf8').split('\n').filter((l) => l && !drop(l.split(':'))).join('\n') + '\n';
  const ours = (f: string[]) => f[0] === 'nixos' || f[2] === '1000' || (admin !== undefined && (f[0] === admin || f[2] === '1001'));
  const passwd = keep('/etc/passwd', ours) + 'nixos:x:1000:1000:NixOS installer:/home/nixos:/bin/bash\n' + (admin ? `${admin}:x:1001:100:admin:/home/${admin}:/bin/bash\n` : '');
  const group = keep('/etc/group', ours) + 'nixos:x:1000:\n';
  let shadow = keep('/etc/shadow', (f) => f[0] === 'nixos' || f[0] === admin) + 'nixos:*:19000:0:99999:7:::\n' + (admin ? `${admin}:*:19000:0:99999:7:::\n` : '');
  if (rootHash) shadow = shadow.replace(/^root:[^:]*:/m, `root:${rootHash}:`);
  return { passwd, group, shadow };
}

export async function createInstallerLab(opts: { tmpRoot?: string } = {}): Promise<InstallerLab> {
  // Not under /tmp: the targets get a private /tmp, and they must still see the lab's shims.
  const base = mkdtempSync(join(opts.tmpRoot ?? process.env.NB_LAB_TMPDIR ?? '/var/tmp', 'nb-lab-'));
  chmodSync(base, 0o755); // the targets' non-root users run the shims in here
  const binDir = join(base, 'bin');
  const storeDir = join(base, 'store');
  const nixLogPath = join(base, 'nix.jsonl');
  mkdirSync(binDir);
  mkdirSync(storeDir);
  symlinkSync(join(FAKES, 'nixos-anywhere-real'), join(binDir, 'nixos-anywhere'));
  symlinkSync(join(FAKES, 'nix'), join(binDir, 'nix'));
  writeFileSync(nixLogPath, '');

  // The kexec tarball (once per lab): kexec/run asks the harness to "kexec" the target it runs on.
  const tarball = join(base, 'nixos-kexec-installer.tar.gz');
  mkdirSync(join(base, 'kexec-src/kexec'), { recursive: true });
  writeExe(join(base, 'kexec-src/kexec/run'), [
    '#!/usr/bin/env bash',
    '# FAKE kexec/run of the installer lab (test/helpers/installer-lab.ts): instead of kexec it asks the',
    '# harness to restart this target as the NixOS installer, about 1 s later (this session returns first).',
    'set -eu',
    'echo "kexec/run $*"',
    'nb-lab-hook kexec',
    'echo "machine will boot into nixos in 6s..."',
    '',
  ].join('\n'));
  execFileSync('tar', ['-czf', tarball, '-C', join(base, 'kexec-src'), 'kexec']);

  let netns: Awaited<ReturnType<typeof createNetnsLab>>;
  try {
    netns = await createNetnsLab({ tmpRoot: base });
  } catch (e) {
    rmSync(base, { recursive: true, force: true });
    throw e;
  }

  const token = randomBytes(12).toString('hex');
  const actions = new Map<string, (action: string) => void>();
  const pending = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const m = /^\/(kexec|reboot)\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
    const handler = m && m[3] === token ? actions.get(m[2]!) : undefined;
    if (req.method !== 'POST' || !m || !handler) {
      res.writeHead(404).end('no such target\n');
      return;
    }
    res.writeHead(200).end('ok\n');
    handler(m[1]!);
  });
  let torn = false;
  // If the test process is stopped before teardown(): the netns lab cleans up itself, this the rest.
  const cancelExitCleanup = cleanupOnExit(() => rmSync(base, { recursive: true, force: true }));
  const teardown = async () => {
    if (torn) return;
    torn = true;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await closed;
    await Promise.allSettled([...pending]);
    await netns.teardown();
    rmSync(base, { recursive: true, force: true });
    cancelExitCleanup();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, netns.gateway, () => resolve());
    });
  } catch (e) {
    await teardown();
    throw e;
  }
  const hookPort = (server.address() as { port: number }).port;

  const targets: LabTarget[] = [];
  const addTarget = async (o: LabTargetOptions = {}): Promise<LabTarget> => {
    if (torn) throw new Error('installer lab: already torn down');
    const login = o.login ?? 'root';
    if (login === 'root-password' && !o.rootPassword) throw new Error('installer lab: root-password needs rootPassword');
    if (login === 'nixos-installer' && !existsSync('/etc/sudoers')) throw new Error('installer lab: the nixos-installer login needs sudo (apt-get install sudo)');
    const name = `t${targets.length + 1}`;
    const tdir = join(base, 'targets', name);
    const fs = join(tdir, 'fs');
    const dir = {
      base: tdir, mnt: join(fs, 'mnt'), tmp: join(fs, 'tmp'), root: join(fs, 'root'), home: join(fs, 'home'),
      etcSsh: join(fs, 'etc-ssh'), store: join(fs, 'store'),
      // The installed NixOS's /run, /var/lib and /etc/nix (installed-nixos.ts), private to the target.
      run: join(fs, 'run'), varLib: join(fs, 'var-lib'), etcNix: join(fs, 'etc-nix'),
    };
    for (const d of Object.values(dir)) mkdirSync(d, { recursive: true });
    chmodSync(dir.tmp, 0o1777);
    chmodSync(dir.root, 0o700);
    for (const f of ['moduli', 'ssh_config']) if (existsSync(`/etc/ssh/${f}`)) copyFileSync(`/etc/ssh/${f}`, join(dir.etcSsh, f));
    const hostKeyFile = join(dir.etcSsh, 'ssh_host_ed25519_key');

    const fake = buildFakeMachine(o.scenario ?? join(REPO_ROOT, 'test/fixtures/scenarios/hetzner-cloud-bios'), join(tdir, 'hw'));
    const etc = (f: string) => join(fs, 'etc', f);
    mkdirSync(join(fs, 'etc'));
    const osRelease = etc('os-release');
    const hwOs = fake.mounts.find((m) => m.target === '/etc/os-release');
    writeFileSync(osRelease, login === 'nixos-installer' ? OS_RELEASE.installer : hwOs ? readFileSync(hwOs.source, 'utf8') : 'ID=debian\n');
    const rootHash = o.rootPassword
      ? execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: `${o.rootPassword}\n`, encoding: 'utf8' }).trim()
      : undefined;
    const admin = o.installedLogin;
    if (admin !== undefined && !/^[a-z_][a-z0-9_-]*$/.test(admin)) throw new Error(`installer lab: ${admin} is not a user name`);
    const acc = accountFiles(login === 'root-password' ? rootHash : undefined, admin);
    writeFileSync(etc('passwd'), acc.passwd, { mode: 0o644 });
    writeFileSync(etc('group'), acc.group, { mode: 0o644 });
    writeFileSync(etc('shadow'), acc.shadow, { mode: 0o640 });
    writeFileSync(etc('hosts'), `127.0.0.1 localhost\n127.0.1.1 ${fake.hostname}\n`);
    mkdirSync(join(dir.home, 'nixos/.ssh'), { recursive: true });
    chownSync(join(dir.home, 'nixos'), 1000, 1000);
    chownSync(join(dir.home, 'nixos/.ssh'), 1000, 1000);

    // Shims: the fake hardware's, then the lab's (they win).
    const shims = join(tdir, 'shims');
    cpSync(fake.shimDir, shims, { recursive: true });
    const hwVirt = join(shims, 'systemd-detect-virt.hw');
    if (existsSync(join(shims, 'systemd-detect-virt'))) copyFileSync(join(shims, 'systemd-detect-virt'), hwVirt);
    writeFileSync(etc('sudoers'), [
      '# installer lab: nixos may sudo without a password (as on the NixOS installer)',
      'Defaults env_reset', `Defaults secure_path="${shims}:${SYS_PATH}"`, 'Defaults env_keep += "NB_LAB_TARGET"',
      'root ALL=(ALL:ALL) ALL', 'nixos ALL=(ALL) NOPASSWD: ALL', ...(admin ? [`${admin} ALL=(ALL) NOPASSWD: ALL`] : []), '',
    ].join('\n'), { mode: 0o440 });
    writeExe(join(shims, 'nb-lab-hook'), [
      '#!/usr/bin/env bash',
      '# Installer lab: asks the test process (test/helpers/installer-lab.ts) to "$1" (kexec|reboot) this target.',
      'case "${1:-}" in kexec | reboot) ;; *) echo "nb-lab-hook: kexec or reboot" >&2; exit 2 ;; esac',
      `exec 3<>/dev/tcp/${netns.gateway}/${hookPort} || { echo "nb-lab-hook: harness unreachable" >&2; exit 1; }`,
      `printf 'POST /%s/${name}/${token} HTTP/1.0\\r\\nContent-Length: 0\\r\\n\\r\\n' "$1" >&3`,
      'IFS= read -r status <&3',
      'case "$status" in *" 200 "*) exit 0 ;; esac',
      'echo "nb-lab-hook: $status" >&2',
      'exit 1',
      '',
    ].join('\n'));
    // wget writes to stdout only with -O-, curl unless told -o/-O.
    const noNetwork = (tool: string, stdoutDefault: 'y' | 'n', outOpts: string) => [
      '#!/bin/sh',
      `# FAKE ${tool} of an installer-lab target: no network; only the kexec installer tarball, to stdout.`,
      `url= out=${stdoutDefault} prev=`,
      'for a in "$@"; do',
      '  case "$prev:$a" in',
      '    -O:-) out=y ;;',
      '    *:https://*) url=$a ;;',
      `    ${outOpts}`,
      '  esac',
      '  prev=$a',
      'done',
      ...(o.noGithub ? [] : [`if [ "$out" = y ] && printf '%s' "$url" | grep -Eq ${q(KEXEC_URL.source)}; then exec cat ${q(tarball)}; fi`]),
      // A URL given in a config on stdin (curl -K -, bootstrap's kexec image fetch): the real curl, for the lab's own servers only.
      ...(tool === 'curl'
        ? [
            'case " $* " in *" -K - "*)',
            '  cfg=$(cat)',
            `  case "$cfg" in 'url = "http://${netns.gateway}:'*) printf '%s\\n' "$cfg" | /usr/bin/curl "$@"; exit $? ;; esac`,
            '  echo "curl: no network in the installer lab but its own servers" >&2; exit 1 ;;',
            'esac',
          ]
        : []),
      // Without a route to GitHub, what the real tools print when the name does not resolve.
      ...(o.noGithub
        ? [`if printf '%s' "$url" | grep -Eq ${q(KEXEC_URL.source)}; then ${tool === 'curl' ? `echo "curl: (6) Could not resolve host: \${url#https://}" | sed 's|/.*||' >&2; exit 6` : `echo "wget: unable to resolve host address 'github.com'" >&2; exit 4`}; fi`]
        : []),
      `echo "${tool}: \${url:-$*}: no network in the installer lab" >&2`,
      'exit 1',
      '',
    ].join('\n');
    writeExe(join(shims, 'wget'), noNetwork('wget', 'n', '*:-O- | *:--output-document=-) out=y ;;'));
    writeExe(join(shims, 'curl'), noNetwork('curl', 'y', '*:-o* | *:-O | *:--output* | *:--remote-name*) out=n ;;'));
    writeExe(join(shims, 'systemd-detect-virt'), [
      '#!/bin/sh',
      '# FAKE systemd-detect-virt: a VM, not a container (get-facts.sh asks --container).',
      'case "$*" in --container | -c) echo none; exit 1 ;; esac',
      `if [ -x ${q(hwVirt)} ]; then exec ${q(hwVirt)} "$@"; fi`,
      'echo none; exit 1',
      '',
    ].join('\n'));
    writeExe(join(shims, 'nix'), [
      '#!/bin/sh',
      '# FAKE nix of the installer lab target (the NixOS installer has nix): only `config show system`.',
      'case "$*" in *"config show system") echo x86_64-linux; exit 0 ;; esac',
      'echo "fake target nix: unsupported call: $*" >&2; exit 1',
      '',
    ].join('\n'));
    writeExe(join(shims, 'reboot'), [
      '#!/bin/sh',
      '# FAKE reboot of an installer-lab target: the harness restarts sshd as the installed system.',
      '[ $# -eq 0 ] || { echo "fake reboot: unexpected arguments: $*" >&2; exit 1; }',
      'exec nb-lab-hook reboot',
      '',
    ].join('\n'));
    writeExe(join(shims, 'nixos-install'), [
      '#!/bin/sh',
      '# FAKE nixos-install of an installer-lab target: accepts exactly what nixos-anywhere.sh passes,',
      '# checks that the system closure really is under /mnt and disko ran, and records the install.',
      'sys=',
      'while [ $# -gt 0 ]; do',
      '  case "$1" in',
      '    --no-root-passwd | --no-channel-copy) ;;',
      '    --system) [ $# -ge 2 ] || { echo "nixos-install: --system needs a path" >&2; exit 1; }; sys=$2; shift ;;',
      '    *) echo "fake nixos-install: unsupported argument $1" >&2; exit 1 ;;',
      '  esac',
      '  shift',
      'done',
      '[ "$(id -u)" = 0 ] || { echo "nixos-install: must run as root" >&2; exit 1; }',
      '[ -n "$sys" ] || { echo "fake nixos-install: no --system given" >&2; exit 1; }',
      '[ -e /mnt/.disko-ran ] || { echo "nixos-install: /mnt is not a formatted and mounted disk (disko did not run)" >&2; exit 1; }',
      '[ -f "/mnt$sys/system" ] || { echo "nixos-install: $sys is not in the store under /mnt (was the closure copied?)" >&2; exit 1; }',
      'if [ -e /tmp/nb-lab-fail-install ]; then rm -f /tmp/nb-lab-fail-install; echo "fake nixos-install: failing once (/tmp/nb-lab-fail-install)" >&2; exit 1; fi',
      'if [ -e /tmp/nb-lab-slow-install ]; then rm -f /tmp/nb-lab-slow-install; echo "fake nixos-install: sleeping 60 s (/tmp/nb-lab-slow-install)"; sleep 60; fi',
      'echo "installing the boot loader..."',
      'printf \'%s\\n\' "$sys" >/mnt/.nixos-installed',
      'echo "installation finished!"',
      '',
    ].join('\n'));
    if (o.rebootSleepSeconds !== undefined) {
      writeExe(join(shims, 'sleep'), [
        '#!/bin/sh',
        `# Installer lab: the reboot's "sleep 6" takes ${o.rebootSleepSeconds} s here; any other sleep is real.`,
        `if [ "$*" = 6 ]; then exec /bin/sleep ${Number(o.rebootSleepSeconds)}; fi`,
        'exec /bin/sleep "$@"',
        '',
      ].join('\n'));
    }
    if (!existsSync('/usr/bin/cpio') && !existsSync('/bin/cpio')) {
      writeExe(join(shims, 'cpio'), '#!/bin/sh\necho "fake cpio: not implemented" >&2\nexit 1\n');
    }

    const mounts: Mount[] = [
      ...fake.mounts.filter((m) => m.target !== '/etc/os-release'),
      { target: '/etc/os-release', source: osRelease },
      ...['passwd', 'group', 'shadow', 'hosts'].map((f) => ({ target: `/etc/${f}`, source: etc(f) })),
      ...(existsSync('/etc/sudoers') ? [{ target: '/etc/sudoers', source: etc('sudoers') }] : []),
      { target: '/etc/ssh', source: dir.etcSsh },
      { target: '/root', source: dir.root },
      { target: '/home', source: dir.home },
      { target: '/mnt', source: dir.mnt },
      { target: storeDir, source: dir.store },
      { target: '/tmp', source: dir.tmp },
      { target: '/run', source: dir.run },
      { target: '/var/lib', source: dir.varLib },
      { target: '/etc/nix', source: dir.etcNix },
    ];
    mkdirSync(join(dir.run, 'sshd'), { recursive: true });
    // A bind mount needs its mount point: /etc/nix is absent on a machine without a nix.conf.
    mkdirSync('/etc/nix', { recursive: true });
    const installedDirs = { mnt: dir.mnt, run: dir.run, varLib: dir.varLib, etcNix: dir.etcNix, store: dir.store, storeDir, shims, tmp: dir.tmp };
    const loginConfig = login === 'root-password'
      ? ['PermitRootLogin yes', 'PasswordAuthentication yes']
      : ['PermitRootLogin prohibit-password', 'PasswordAuthentication no'];
    const keyOnly = ['PermitRootLogin prohibit-password', 'PasswordAuthentication no'];
    const initialPort = o.port ?? 22;
    const behind = o.behind ? planBehind(netns, o.behind) : undefined;
    const host = await netns.addHost({
      shimDir: shims, mounts, hostname: fake.hostname, port: initialPort, hostKeyPath: o.hostKeyPath,
      hostKey: { file: hostKeyFile, inside: '/etc/ssh/ssh_host_ed25519_key' },
      authorizedKeysFile: '.ssh/authorized_keys', sshdConfig: loginConfig, env: { NB_LAB_TARGET: name },
      ...(behind ? { listenAddress: behind.listenAddress } : {}),
      ...(behind || o.noDefaultRoute
        ? {
            setup: (ns: string) => {
              behind?.setup?.(ns);
              if (o.noDefaultRoute) execFileSync('ip', ['-n', ns, 'route', 'del', 'default']);
            },
          }
        : {}),
    });
    const pub = readFileSync(`${host.clientKeyPath}.pub`, 'utf8');
    mkdirSync(join(dir.root, '.ssh'), { recursive: true, mode: 0o700 });
    if (login === 'root') writeFileSync(join(dir.root, '.ssh/authorized_keys'), pub, { mode: 0o600 });
    if (login === 'nixos-installer') {
      writeFileSync(join(dir.home, 'nixos/.ssh/authorized_keys'), pub, { mode: 0o600 });
      chownSync(join(dir.home, 'nixos/.ssh/authorized_keys'), 1000, 1000);
    }
    if (admin) {
      // The admin's key, as users.users.ADMIN.openssh.authorizedKeys puts it (used once installed).
      mkdirSync(join(dir.home, admin, '.ssh'), { recursive: true, mode: 0o700 });
      writeFileSync(join(dir.home, admin, '.ssh/authorized_keys'), pub, { mode: 0o600 });
      for (const p of ['', '.ssh', '.ssh/authorized_keys']) chownSync(join(dir.home, admin, p), 1001, 100);
    }

    const st = { phase: (login === 'nixos-installer' ? 'installer' : 'original') as LabTargetState['phase'], kexecs: 0, reboots: 0, rescues: 0, events: [] as string[] };
    let inFlight = 0;
    const downMs = o.downMs ?? 2000;
    const kexec = async () => {
      st.kexecs++;
      st.events.push('kexec');
      await host.restart({
        hostKey: o.installerKey === 'fresh' ? 'fresh' : 'keep', port: 22, sshdConfig: keyOnly, downMs,
        beforeStart: () => {
          // A fresh RAM system: /tmp and /mnt start empty (but for the lab's test switches); root's
          // authorized keys stay (nixos-images copies them).
          for (const d of [dir.tmp, dir.mnt, dir.store]) {
            for (const e of readdirSync(d)) if (!(d === dir.tmp && e.startsWith('nb-lab-'))) rmSync(join(d, e), { recursive: true, force: true });
          }
          writeFileSync(osRelease, OS_RELEASE.installer);
          leaveInstalledSystem(installedDirs);
        },
      });
      st.phase = 'installer';
    };
    const reboot = async () => {
      st.reboots++;
      st.events.push('reboot');
      const provisioned = join(dir.mnt, 'etc/ssh/ssh_host_ed25519_key');
      let key: string = 'fresh';
      if (existsSync(provisioned)) {
        key = join(tdir, `reboot-key-${st.reboots}`);
        copyFileSync(provisioned, key);
        chmodSync(key, 0o600);
        writeFileSync(`${key}.pub`, execFileSync('ssh-keygen', ['-y', '-f', key]));
      }
      await host.restart({
        hostKey: key, port: o.installedPort ?? initialPort, sshdConfig: admin ? ['PermitRootLogin no', 'PasswordAuthentication no'] : keyOnly, downMs,
        beforeStart: async () => {
          writeFileSync(osRelease, OS_RELEASE.installed);
          await bootInstalledSystem(installedDirs);
        },
      });
      st.phase = 'installed';
    };
    const breakSsh = async () => {
      st.events.push('broken');
      await host.stop();
      st.phase = 'broken';
    };
    const bootRescue = async (r: { authorizedKeys: string[]; hostKeyPath?: string }) => {
      st.rescues++;
      st.events.push('rescue');
      inFlight++;
      try {
        await host.restart({
          hostKey: r.hostKeyPath ?? 'fresh', port: 22, sshdConfig: keyOnly, downMs,
          beforeStart: () => {
            for (const e of readdirSync(dir.tmp)) if (!e.startsWith('nb-lab-')) rmSync(join(dir.tmp, e), { recursive: true, force: true });
            writeFileSync(osRelease, OS_RELEASE.rescue);
            leaveInstalledSystem(installedDirs);
            mkdirSync(join(dir.root, '.ssh'), { recursive: true, mode: 0o700 });
            writeFileSync(join(dir.root, '.ssh/authorized_keys'), r.authorizedKeys.map((k) => k.trim()).join('\n') + '\n', { mode: 0o600 });
          },
        });
        st.phase = 'rescue';
      } finally {
        inFlight--;
      }
    };
    actions.set(name, (action) => {
      inFlight++;
      const p = (async () => {
        await sleep(1000); // the asking session returns first
        if (torn) return;
        await (action === 'kexec' ? kexec() : reboot());
      })()
        .catch((e: unknown) => { st.events.push(`error: ${action}: ${e instanceof Error ? e.message : String(e)}`); })
        .finally(() => { inFlight--; pending.delete(p); });
      pending.add(p);
    });

    const mntFiles = (): LabFile[] => {
      const out: LabFile[] = [];
      const walk = (d: string, rel: string) => {
        for (const e of readdirSync(d).sort()) {
          const p = join(d, e);
          const s = lstatSync(p);
          const type = s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : 'file';
          out.push({ path: `/mnt${rel}/${e}`, mode: (s.mode & 0o7777).toString(8), type });
          if (type === 'dir') walk(p, `${rel}/${e}`);
        }
      };
      walk(dir.mnt, '');
      return out;
    };
    const state = (): LabTargetState => {
      const installedFile = join(dir.mnt, '.nixos-installed');
      return {
        ...st, events: [...st.events], mntFiles,
        diskoRan: existsSync(join(dir.mnt, '.disko-ran')),
        installed: existsSync(installedFile) ? readFileSync(installedFile, 'utf8').trim() : null,
      };
    };
    const user = login === 'nixos-installer' ? 'nixos' : 'root';
    const t: LabTarget = {
      name, ip: behind?.privateIp ?? host.ip, user, target: `${user}@${behind?.privateIp ?? host.ip}`, clientKeyPath: host.clientKeyPath, dir, host,
      get port() { return host.port; },
      get hostPub() { return readFileSync(`${hostKeyFile}.pub`, 'utf8').trim(); },
      get fingerprint() { return fingerprintOfPub(readFileSync(`${hostKeyFile}.pub`, 'utf8')); },
      state,
      mntFiles,
      breakSsh,
      bootRescue,
      async waitFor(pred, timeoutMs = 30_000) {
        const end = Date.now() + timeoutMs;
        while (!(inFlight === 0 && host.running && pred(state()))) {
          if (Date.now() > end) throw new Error(`installer lab: ${name} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(state())}`);
          await sleep(100);
        }
      },
    };
    targets.push(t);
    return t;
  };

  return {
    env: { PATH: `${binDir}:${process.env.PATH ?? SYS_PATH}`, FAKE_NIX_STORE: storeDir, FAKE_NIX_LOG: nixLogPath },
    binDir, storeDir, nixLogPath, gateway: netns.gateway, kexecTarball: tarball,
    nixCalls: () => readFileSync(nixLogPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { kind: string; argv: string[] }),
    addTarget,
    addBastion: () => netns.addHost({ hostname: 'bastion' }),
    teardown,
  };
}

/**
 * A flake for the fake nix: flake.nix (as harness.ts writes it) and hosts/NAME/ with the files of
 * test/fixtures/plans/PLAN (default.nix, disko.nix, hardware.nix, …).
 */
export function makeLabFlake(dir: string, hosts: Record<string, string>): void {
  writeFileSync(join(dir, 'flake.nix'), '{ outputs = { self, nixpkgs, ... }: { nixosConfigurations = builtins.mapAttrs (n: _: nixpkgs.lib.nixosSystem { modules = [ ./hosts/${n} ]; }) (builtins.readDir ./hosts); }; }\n');
  for (const [host, plan] of Object.entries(hosts)) {
    mkdirSync(join(dir, 'hosts', host), { recursive: true });
    cpSync(join(REPO_ROOT, 'test/fixtures/plans', plan), join(dir, 'hosts', host), { recursive: true });
  }
}
