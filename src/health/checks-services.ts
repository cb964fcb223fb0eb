/**
 * The service checks of the health report (pure): secrets (the delivered key files, sops-nix and
 * agenix as their activation declares them), the binary caches, and the restic backup timers.
 */
import type { HealthExpectations } from './expect.js';
import type { BackupTimer, HealthFacts } from './facts.js';
import { check, type HealthCheck } from './report.js';
import { NEEDS_ROOT, needsRootHint, loginName, ranWithoutRoot } from './checks-access.js';

const list = (xs: readonly string[], n = 3) => xs.slice(0, n).join(', ') + (xs.length > n ? ` and ${xs.length - n} more` : '');

function buildKeyFileChecks(f: HealthFacts, e: HealthExpectations): HealthCheck[] {
  if (!e.secrets.keyFiles.length) return [check('secrets.key-file', 'secrets', 'n/a', e.secrets.mode === 'sops' ? 'bootstrap delivers no age key file: the host keeps its own SSH keys (--copy-host-keys), sops-nix derives its age key from them' : 'bootstrap delivers no key file to this host ([sops] mode is not sops)')];
  return e.secrets.keyFiles.map((path) => {
    const k = f.keyFiles.find((x) => x.path === path);
    if (k && !k.present && k.searchable === false && ranWithoutRoot(f)) return check('secrets.key-file', 'secrets', 'warn', `${path}: ${NEEDS_ROOT}: a directory on its path is closed to ${loginName(f)}`, needsRootHint(f));
    if (!k?.present) return check('secrets.key-file', 'secrets', 'fail', `the age key ${path} is missing: sops-nix cannot decrypt`, `put the host's age identity from the secret store back at ${path} (mode 0600), then re-activate: \`/run/current-system/bin/switch-to-configuration switch\``);
    if (k.mode !== null && k.mode !== '600' && k.mode !== '400') return check('secrets.key-file', 'secrets', 'warn', `${path} has mode 0${k.mode}, not 0600`, `\`chmod 600 ${path}\``);
    return check('secrets.key-file', 'secrets', 'ok', `${path} present${k.mode ? `, mode 0${k.mode}` : ''}${k.owner ? `, owner ${k.owner}` : ''}`);
  });
}

/** Seconds between the sops-nix snippet and the activation's final link that still count as one run. */
const SOPS_ACTIVATION_SLACK_S = 600;

function buildSopsChecks(f: HealthFacts, e: HealthExpectations): HealthCheck[] {
  if (!f.sops.length) {
    return [check('secrets.sops', 'secrets', 'n/a', e.secrets.mode === 'sops' ? 'the system declares no sops-nix secrets' : 'sops-nix is not used')];
  }
  return f.sops.map((m) => {
    const kind = /-for-users\.json$/.test(m.manifest) ? 'sops-nix secrets for users' : 'sops-nix secrets';
    const present = new Set(m.paths.filter((p) => p.present).map((p) => p.path));
    const expected = m.secrets ? m.secrets.map((s) => s.path) : m.paths.map((p) => p.path);
    const missing = expected.filter((p) => !present.has(p));
    if (m.secrets === null && !m.paths.length) return check('secrets.sops', 'secrets', 'warn', `cannot read the sops-nix manifest ${m.manifest}`, 'the system closure may be incomplete: `nix-store --verify-path /run/current-system`');
    if (m.symlinkPath && expected.length && m.symlinkTarget === null) {
      return check('secrets.sops', 'secrets', 'fail', `${kind}: ${m.symlinkPath} is not linked to a generation: the activation did not install them`, 'see why: `journalctl -b | grep -i sops`; check the host age key and the .sops.yaml recipients');
    }
    if (missing.length) {
      return check('secrets.sops', 'secrets', 'fail', `${kind}: ${missing.length} of ${expected.length} missing: ${list(missing)}`, 'decryption failed at activation: `journalctl -b | grep -i sops`; the host key must be a recipient in .sops.yaml (`sops updatekeys`)');
    }
    // Every successful sops-install-secrets run relinks symlinkPath, and the activation links
    // /run/current-system after it; a link older than the last activation means that run failed
    // and the old generation (old values) stayed.
    const act = f.system.currentEpoch;
    if (m.symlinkEpoch !== null && act !== null && act - m.symlinkEpoch > SOPS_ACTIVATION_SLACK_S) {
      const when = new Date(m.symlinkEpoch * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      return check('secrets.sops', 'secrets', 'fail', `${kind}: the last activation did not install them; ${m.symlinkPath} still holds the generation of ${when}`, 'decryption failed at the last switch, the old values are in use: `journalctl -b | grep -i sops`; check the host age key and `sops updatekeys`, then switch again');
    }
    return check('secrets.sops', 'secrets', 'ok', `${kind}: ${expected.length} present${m.symlinkTarget ? ` (${m.symlinkTarget})` : ''}`);
  });
}

function buildAgenixCheck(f: HealthFacts, e: HealthExpectations): HealthCheck {
  const a = f.agenix;
  if (!a) return check('secrets.agenix', 'secrets', 'n/a', e.secrets.mode === 'agenix' ? 'the system declares no agenix secrets' : 'agenix is not used');
  if (a.secrets.length && a.secretsDir && a.generation === null) {
    return check('secrets.agenix', 'secrets', 'fail', `${a.secretsDir} is not linked to a generation: the agenix activation did not run`, 'see why: `journalctl -b | grep -i agenix`');
  }
  const missing = a.secrets.filter((s) => !s.truePath?.present || (s.link !== null && !s.link.present)).map((s) => s.link?.path ?? s.truePath?.path ?? s.source);
  if (missing.length) {
    return check('secrets.agenix', 'secrets', 'fail', `agenix secrets: ${missing.length} of ${a.secrets.length} missing: ${list(missing)}`, 'decryption failed at activation: `journalctl -b | grep -i agenix`; the host key must be in the secret\'s publicKeys (`agenix -r`)');
  }
  return check('secrets.agenix', 'secrets', 'ok', `agenix secrets: ${a.secrets.length} present${a.generation ? ` (generation ${a.generation})` : ''}`);
}

export function buildSecretChecks(f: HealthFacts, e: HealthExpectations): HealthCheck[] {
  return [...buildKeyFileChecks(f, e), ...buildSopsChecks(f, e), buildAgenixCheck(f, e)];
}

/** Substituter URLs compare without query and trailing slash. */
export function normalizeSubstituter(url: string): string {
  return url.replace(/\?.*$/, '').replace(/\/+$/, '');
}

export function buildCacheChecks(f: HealthFacts, e: HealthExpectations): HealthCheck[] {
  const c = f.cache;
  const want = e.cache ? normalizeSubstituter(e.cache.substituter) : null;
  if (!c.confFound) return [check('cache.substituters', 'cache', want ? 'fail' : 'warn', 'no /etc/nix/nix.conf on the host', 'is this a NixOS system? `nix.settings` writes that file')];
  const out: HealthCheck[] = [];
  // Nix refuses a nix.conf whose `include` (not `!include`) file is missing (src/libutil/config.cc).
  if (c.includeMissing.length) out.push(check('cache.nix-conf', 'cache', 'fail', `nix.conf includes ${list(c.includeMissing)}, which does not exist: nix refuses to run`, 'create the file or use `!include` for an optional one (nix.extraOptions)'));
  if (want && !c.substituters.some((s) => normalizeSubstituter(s) === want)) {
    out.push(check('cache.configured', 'cache', 'fail', `${e.cache!.substituter} is not among the host's substituters`, `import ./cache.nix in hosts/${e.host}/default.nix and deploy`));
  }
  if (c.probes === null) out.push(check('cache.substituters', 'cache', 'warn', 'cannot test the substituters (no curl on the host)'));
  for (const p of c.probes ?? []) {
    const ours = want !== null && normalizeSubstituter(p.url) === want;
    const bad = ours ? 'fail' : 'warn';
    const label = `${p.url}${ours ? ' (bootstrap\'s cache)' : ''}`;
    if (p.skipped) out.push(check('cache.substituter', 'cache', 'n/a', `${label}: not an http(s) cache, not tested`));
    else if (p.http === 200 && (p.storeDir === null || p.storeDir === '/nix/store')) out.push(check('cache.substituter', 'cache', 'ok', `${label} answers nix-cache-info`));
    else if (p.http === 200) out.push(check('cache.substituter', 'cache', bad, `${label} serves StoreDir ${p.storeDir}, not /nix/store`, 'the cache was made for another store; its paths cannot be substituted'));
    else if ((p.http === 401 || p.http === 403) && c.netrcReadable === false && ranWithoutRoot(f)) {
      // The nix daemon reads the netrc as root; this login could not, so a refusal says nothing.
      out.push(check('cache.substituter', 'cache', 'warn', `${label}: ${NEEDS_ROOT}: HTTP ${p.http} without ${c.netrc?.path ?? 'the netrc'}, which only root may read`, needsRootHint(f)));
    } else if (p.http === 401 || p.http === 403) {
      const netrc = c.netrc ? `${c.netrc.path}${c.netrc.present ? '' : ' (missing)'}` : 'no netrc';
      out.push(check('cache.substituter', 'cache', bad, `${label} refuses the host (HTTP ${p.http}; ${netrc})`, 'the pull token is missing or wrong: `bootstrap cache create --host` again, check the netrc secret'));
    } else {
      const why = p.http !== null && p.http !== 0 ? `HTTP ${p.http}` : curlReason(p.curlExit);
      out.push(check('cache.substituter', 'cache', bad, `${label} does not answer: ${why}`, 'check the URL, the cache server and the host\'s network/DNS (`curl -v URL/nix-cache-info` on the host)'));
    }
  }
  if (!e.cache) out.push(check('cache.trusted-key', 'cache', 'n/a', 'bootstrap configured no binary cache for this host'));
  else if (!e.cache.publicKey) out.push(check('cache.trusted-key', 'cache', 'warn', 'the manifest records no public key for the cache', 'run `bootstrap cache create --host` again'));
  else if (c.trustedPublicKeys.includes(e.cache.publicKey)) out.push(check('cache.trusted-key', 'cache', 'ok', `trusts ${e.cache.publicKey.split(':')[0]}`));
  else out.push(check('cache.trusted-key', 'cache', 'fail', `${e.cache.publicKey.split(':')[0]} is not in trusted-public-keys: its paths would be refused`, `import ./cache.nix in hosts/${e.host}/default.nix and deploy`));
  return out;
}

/** curl's exit codes a user meets here, in words. */
export function curlReason(code: number | null): string {
  switch (code) {
    case 6: return 'cannot resolve the host name';
    case 7: return 'connection refused';
    case 28: return 'timed out after 5 s';
    case 35: case 60: return 'TLS error';
    case null: return 'no answer';
    default: return `curl exit ${code}`;
  }
}

export function buildBackupChecks(f: HealthFacts, e: HealthExpectations): HealthCheck[] {
  const timers = f.backups;
  if (timers === null) return [check('backups.timer', 'backups', e.backupConfigured ? 'warn' : 'n/a', 'cannot list timers (no systemctl)')];
  if (!timers.length) {
    return e.backupConfigured
      ? [check('backups.timer', 'backups', 'fail', 'backups are configured, but no restic-backups-* timer exists', `import ./backup.nix in hosts/${e.host}/default.nix and deploy`)]
      : [check('backups.timer', 'backups', 'n/a', 'no backups configured')];
  }
  return timers.flatMap((t) => {
    const name = t.unit.replace(/\.timer$/, '');
    const out: HealthCheck[] = [];
    // A oneshot service is "activating" while it runs; systemd clears the timer's next elapse
    // until the run ends (the timer sits in its "running" state), so no next run is no fault then.
    const running = t.serviceActive === 'activating' || t.serviceActive === 'active' || t.serviceActive === 'reloading';
    if (t.active === 'active' && t.next === null && running) out.push(check('backups.timer', 'backups', 'ok', `${t.unit} armed; ${name} is running now (the next run is set when it ends)`));
    else if (t.active !== 'active' || t.next === null) {
      out.push(check('backups.timer', 'backups', 'fail', `${t.unit} is not armed (${t.active ?? 'unknown'}${t.next === null ? ', no next run' : ''})`, `\`systemctl start ${t.unit}\`; see \`systemctl status ${t.unit}\``));
    } else out.push(check('backups.timer', 'backups', 'ok', `${t.unit} armed, next run ${t.next}`));
    out.push(buildLastRunCheck(t, name, running));
    return out;
  });
}

const isoOf = (epoch: number | null) => (epoch === null ? '' : ` ${new Date(epoch * 1000).toISOString().replace(/\.\d+Z$/, 'Z')}`);

/**
 * The last backup's outcome. The service's Result and ExecMainStatus describe a run since this boot
 * only (a reboot resets them to "success"); for a run before it, the journal's record of PID 1
 * (unit_log_success / unit_log_failure) is read; without one the result is unknown, never "succeeded".
 */
function buildLastRunCheck(t: BackupTimer, name: string, running: boolean): HealthCheck {
  const hint = `see why: \`journalctl -u ${name}.service\``;
  if (running) return check('backups.last-run', 'backups', 'ok', `${name} is running now`);
  if (t.serviceExitedAt !== null) {
    return t.serviceResult === 'success' && (t.serviceExitStatus ?? 0) === 0
      ? check('backups.last-run', 'backups', 'ok', `${name} last run ${t.serviceExitedAt} succeeded`)
      : check('backups.last-run', 'backups', 'fail', `${name} last run ${t.serviceExitedAt} failed (${t.serviceResult ?? 'unknown'}${t.serviceExitStatus ? `, exit ${t.serviceExitStatus}` : ''})`, hint);
  }
  if (t.journal) {
    return t.journal.result === 'success'
      ? check('backups.last-run', 'backups', 'ok', `${name} last run${isoOf(t.journal.atEpoch)} succeeded (before the last boot, from the journal)`)
      : check('backups.last-run', 'backups', 'fail', `${name} last run${isoOf(t.journal.atEpoch)} failed (${t.journal.result}; before the last boot, from the journal)`, hint);
  }
  if (t.last !== null) return check('backups.last-run', 'backups', 'warn', `${name} last ran ${t.last}, before the last boot; its result is not in the journal`, `keep the journal across reboots (services.journald.storage = "persistent"), or run it now: \`systemctl start ${name}.service\``);
  return check('backups.last-run', 'backups', 'n/a', `${name} has not run yet`);
}
