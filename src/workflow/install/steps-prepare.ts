/**
 * The steps before anything on the target is touched: write the host's files, make or reuse its
 * keys, register its age recipient, and check that the flake, the target and its disk are what
 * the plan says. Each step takes only the slice of the install context it needs.
 */
import { hostDir } from '../../config/host-dir.js';
import { checkHostDecrypts } from '../../recipients/rekey-check.js';
import { runAccessPreflight } from './preflight-access.js';
import { planInstallReach } from './lockout-guard.js';
import { buildReachPath, saveReach } from '../shared/tailnet.js';
import { buildStatePath } from './state.js';
import { join } from 'node:path';
import { failure } from '../../errors.js';
import { readHostKeyRef } from '../../keys/host-key-ref.js';
import { checkRecordableRefs, ensureHostKeys, ensureSeparateAgeKey, generateLuksPassphrase, hostSecretNames, readSeparateAgeKey, type SeparateAgeKey } from '../../keys/host-keys.js';
import { buildAgeRecipientFromSsh } from '../../keys/age-key.js';
import { runProbe } from '../../probe/run-probe.js';
import { matchDisk } from '../../render/install-disk.js';
import type { HardwareReport } from '../../probe/report.js';
import type { HostPlan } from '../../render/plan.js';
import { readManifest, buildManifestToml, MANIFEST_FILE } from '../../manifest/manifest.js';
import { checkRecipientFiles, runRegisterRecipients } from '../../recipients/register.js';
import { applyFilePlan, planFiles } from '../../render/file-plan.js';
import { withFlakeLock } from '../flake-lock.js';
import type { Step } from '../step.js';
import { buildKeyOptions, type InstallCtx } from './context.js';
import { requireNix, runBuildFirst, runGitIntentToAdd, runDiskoCheck, runFlakeCheck, runGitTrackedCheck, saveBuilt } from './preflight-nix.js';
import { readPinnedTargetKeys } from './start-installer.js';
import { runVerifyKexecImage } from '../../installer/kexec-image.js';
import { checkKexecReachable, kexecRouteOf, resolveKexecSourceUrl, runFetchKexecImage } from './kexec-delivery.js';
import { saveEarlierKeys } from './state.js';

/** Memory the kexec installer needs (nixos-anywhere's own guidance is about 1 GB of free RAM). */
export const KEXEC_MIN_MEMORY_BYTES = 1.5e9;

type C = InstallCtx;

export const writeStep: Step<C> = {
  id: 'write',
  title: 'write the host files into the flake',
  async run(c, progress) {
    // Re-plan against the disk now: on --resume the flake may have changed since the first run.
    const entries = await planFiles(c.flakeDir, c.plan.files);
    const written = await applyFilePlan(c.flakeDir, entries);
    const added = await runGitIntentToAdd(c, written);
    progress.update(written.length ? `wrote ${written.length} file(s)${added ? ' (git add --intent-to-add, so nix sees them)' : ''}` : 'up to date');
  },
};

/**
 * The age recipient of the target's ed25519 host key (--copy-host-keys keeps that key). Taken from
 * the pin the probe made over a verified handshake, never from a new, unchecked one: a machine in
 * the middle must not get its own key registered.
 */
async function targetRecipient(c: Pick<C, 'target' | 'ssh' | 'answers'>): Promise<{ recipient: string; publicKey: string }> {
  const key = (await readPinnedTargetKeys(c)).find((k) => k.type === 'ssh-ed25519');
  if (!key) {
    throw failure('no-ed25519-host-key', `no ed25519 host key of ${c.target.host} is pinned, so no age recipient can be derived from it`, 'install with provisioned keys (drop --copy-host-keys), or pin the ed25519 key with `bootstrap probe --host-key SHA256:…`');
  }
  const publicKey = `ssh-ed25519 ${key.blob.toString('base64')}`;
  return { recipient: buildAgeRecipientFromSsh(publicKey), publicKey };
}

/** Record where the host's secrets live (references only) in its manifest. */
async function recordSecretRefs(c: Pick<C, 'flakeDir' | 'host' | 'loaded'>, refs: Record<string, string>): Promise<void> {
  const manifest = await readManifest(c.flakeDir, c.host);
  const secrets = { ...manifest.secrets, ...refs };
  const path = join(hostDir(c.loaded.config, c.host), MANIFEST_FILE).split('\\').join('/');
  const entries = await planFiles(c.flakeDir, [{ path, owner: 'tool', content: buildManifestToml({ ...manifest, secrets }) }]);
  await applyFilePlan(c.flakeDir, entries);
}

export const keysStep: Step<C> = {
  id: 'keys',
  title: "create or reuse the host's keys",
  async run(c, progress) {
    // The recipients step edits .sops.yaml / secrets.nix after these writes: refuse a file it
    // cannot edit now, before a key or the manifest is written.
    await checkRecipientFiles(c.app, c.loaded, c.host);
    const store = await c.store();
    if (c.identity === 'copy-target-keys') {
      // The target keeps its host key; a LUKS passphrase and the independent age key (the host's
      // or the fleet's shared one, [sops] separateKeyPath) may still be ours to make and deliver.
      const refs: Record<string, string> = {};
      if (c.plan.layout.encrypted) {
        const name = hostSecretNames(c.host).luks;
        checkRecordableRefs(store, [name]);
        if (!(await store.exists(name))) await store.put(name, generateLuksPassphrase(), { kind: 'password' });
        refs.luksPassphrase = store.refOf(name);
      }
      const separate = buildKeyOptions(c);
      const made = separate.separateAgeKey ? await ensureSeparateAgeKey(store, c.host, separate) : undefined;
      await recordSecretRefs(c, refs);
      progress.update(`keeping the target host keys${made ? `; ${made.action.action} ${made.action.name}` : ''}`);
      return;
    }
    const sshKeyRef = await readHostKeyRef(c.loaded, c.host, store);
    const { keys, actions } = await ensureHostKeys(store, c.host, { ...buildKeyOptions(c), ...(sshKeyRef ? { sshKeyRef } : {}) });
    await recordSecretRefs(c, { sshHostKey: keys.ssh.ref, ...(keys.luks ? { luksPassphrase: keys.luks.ref } : {}) });
    progress.update(`${actions.map((a) => `${a.action} ${a.name.split('/').pop()}`).join(', ')}; ${keys.ssh.fingerprint}`);
  },
};

function separateInput(k: SeparateAgeKey | undefined): { separateRecipient?: string; separateShared?: boolean } {
  return k ? { separateRecipient: k.recipient, ...(k.shared ? { separateShared: true } : {}) } : {};
}

export const recipientsStep: Step<C> = {
  id: 'recipients',
  title: 'register the host age recipient for sops/agenix',
  skip: (c) => (c.loaded.config.sops.mode === 'none' ? 'sops mode is "none" in bootstrap.toml' : false),
  async run(c, progress) {
    await checkRecipientFiles(c.app, c.loaded, c.host); // before c.keys() reads the store (a --from recipients run)
    const input =
      c.identity === 'copy-target-keys'
        ? await targetRecipient(c).then(async (t) => ({ host: c.host, recipient: t.recipient, sshPublicKey: t.publicKey, ...separateInput(await readSeparateAgeKey(await c.store(), c.host, buildKeyOptions(c))) }))
        : await c.keys().then((k) => ({ host: c.host, recipient: k.age.recipient, sshPublicKey: k.ssh.publicKey, ...separateInput(k.separateAge) }));
    // Shared files: hosts of one fleet run register one at a time.
    const report = await withFlakeLock(c.flakeDir, c.loaded.config.stateDir, () => runRegisterRecipients(c.app, c.loaded, input, false));
    for (const note of report.notes) c.out.info(note);
    // The host must decrypt its secrets on first boot: checked from the files, before the wipe.
    const sops = c.loaded.config.sops;
    const check = await checkHostDecrypts(c.app, { flakeDir: c.flakeDir, mode: sops.mode, sopsFile: sops.file, agenixFile: sops.agenixFile, recipient: input.recipient, sshPublicKey: input.sshPublicKey });
    if (!check.checked) c.out.warn(`could not evaluate ${sops.agenixFile} here (is Nix installed?): whether ${c.host} can decrypt its agenix secrets is not checked`);
    if (check.missing.length) {
      const what = `${check.missing.length} secret file${check.missing.length === 1 ? '' : 's'} ${c.host} must read ${check.missing.length === 1 ? 'is' : 'are'} not encrypted for it: ${check.missing.join(', ')}`;
      if (!c.answers.skipRekey) {
        throw failure('secrets-not-rekeyed', what, `run ${check.commands.join(' && ')} (with your own key), then run again with --resume; or pass --skip-rekey to install without them; nothing on the target was touched`);
      }
      c.out.warn(`${what} (--skip-rekey): they will not decrypt on ${c.host} until you run ${check.commands.join(' && ')} and deploy`);
    }
    progress.update(report.files.length ? `updated ${report.files.join(', ')}` : 'already registered');
  },
};

/**
 * The planned disk(s) must still be on the target: each found by by-id or path, with the same size
 * and serial (matchDisk). Pure.
 * @throws failure 'disk-changed' naming the disk, before anything is wiped
 */
export function checkPlannedDisks(host: string, plan: Pick<HostPlan, 'installDisk' | 'secondDisk'>, now: HardwareReport): void {
  for (const d of [plan.installDisk, ...(plan.secondDisk ? [plan.secondDisk] : [])]) {
    const m = matchDisk(d, now);
    if (m.kind !== 'same') {
      throw failure('disk-changed', `the install disk ${d.byId ?? d.path} ${m.kind === 'missing' ? `is no longer on ${host}` : `changed on ${host} (${m.what})`}; nothing was wiped`, 'probe again and re-plan (`bootstrap plan HOST --target … --write`), then run the install again');
    }
  }
}

export const preflightStep: Step<C> = {
  id: 'preflight',
  title: 'build the system and check the flake, the target memory and its disk before wiping',
  async run(c, progress) {
    const r = c.report;
    if (!r.os.isInstaller && r.memoryBytes < KEXEC_MIN_MEMORY_BYTES) {
      throw failure(
        'low-memory',
        `${c.host} has ${(r.memoryBytes / 1e9).toFixed(2)} GB of memory; the kexec installer needs at least ${KEXEC_MIN_MEMORY_BYTES / 1e9} GB`,
        'boot the target into a NixOS installer ISO instead of kexec, pass --no-disko-deps to save memory, or pick a bigger plan',
      );
    }
    // The disk must still be the planned one: read it again now, over the pinned connection (the
    // plan may come from a report of an earlier run), and compare by-id or path, size and serial.
    const want = c.plan.installDisk;
    progress.update('reading the target disks again');
    const now = await runProbe(c.app, c.target, c.ssh);
    checkPlannedDisks(c.host, c.plan, now);
    // The kexec image must reach the target: refused here when it cannot download upstream's.
    const kexecRoute = kexecRouteOf(c);
    checkKexecReachable(c.host, now, kexecRoute);
    // The keys pinned for the target: the installer must present them, and verify tolerates them.
    const pinned = await readPinnedTargetKeys(c);
    for (const k of [...pinned].sort((a, b) => Number(b.type === 'ssh-ed25519') - Number(a.type === 'ssh-ed25519'))) c.earlierKeys.add(k.fingerprint);
    await saveEarlierKeys(c.earlierKeysPath, c.earlierKeys);
    // An operator-supplied kexec image must be the pinned one (checked again right before kexec);
    // a downloaded one is fetched and hashed on the target now, so a bad source stops the run here.
    if (kexecRoute?.from === 'local') {
      progress.update('checking the kexec image against its pinned sha256');
      await runVerifyKexecImage(kexecRoute.file, kexecRoute.sha256);
    } else if (kexecRoute && !now.os.isInstaller) {
      progress.update(`the target downloads the kexec image (${kexecRoute.from}) and checks its sha256`);
      await runFetchKexecImage(c, kexecRoute, await resolveKexecSourceUrl(c, kexecRoute));
    }
    // Build first: an error in the configuration stops here, with the disk untouched.
    await requireNix(c);
    await runFlakeCheck(c, progress);
    await runGitTrackedCheck(c, progress);
    await runDiskoCheck(c, progress);
    // One evaluation of who may log in and become root, sshd, the firewall and the tailnet: the
    // login check, then the lock-out guard refuses a config that would shut the operator out.
    const guard = await runAccessPreflight(c, progress);
    // Reachable only over the tailnet? Then verify waits for the tailnet name (shared/tailnet.ts).
    await saveReach(buildReachPath(buildStatePath(c.flakeDir, c.loaded.config.stateDir, c.host)), planInstallReach(c, guard.facts, guard.check));
    const built = await runBuildFirst(c, progress);
    await saveBuilt(c.builtPath, built);
    progress.update(`${built.kind === 'local' ? 'built' : 'evaluated (built on the target)'}; ${want.byId ?? want.path} present, ${(r.memoryBytes / 1e9).toFixed(1)} GB memory`);
    return guard.detail !== undefined ? { detail: guard.detail } : undefined;
  },
};
