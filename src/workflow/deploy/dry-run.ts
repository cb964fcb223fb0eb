/**
 * `deploy --dry-run`: what a deploy would change, with the host untouched. The system is built
 * here (the host's store is not written), then one pinned connection reads what the host runs and,
 * when the new system is already in its store, asks its switch-to-configuration dry-activate which
 * units would restart, and where the closure would come from (copy-route.ts, deciding only:
 * nothing is pushed to the cache). No journal, no lock, no timer.
 */
import type { AppContext } from '../../context.js';
import type { LoadedConfig } from '../../config/load.js';
import { hostDir } from '../../config/host-dir.js';
import { messageOf } from '../../errors.js';
import type { Manifest } from '../../manifest/schema.js';
import { withSession } from '../../ssh/session.js';
import { runPool } from '../shared/pool.js';
import { buildHealthTarget } from '../shared/health-target.js';
import { buildToplevelArgv, parseToplevelJson } from './nix.js';
import { buildDryActivateScript, buildReadStateScript, buildRemoteCommand, parseDryActivate, parseKeyLines } from './remote.js';
import { DEPLOY_STEPS } from './steps.js';
import { buildInterfaceReader, evalDeployLockout } from './guard.js';
import { describeLockouts } from '../../installer/lockout.js';
import type { SecretStore } from '../../secrets/store.js';
import type { CopyRoute } from './copy-route.js';

export interface DeployPlan {
  host: string;
  target: string;
  /** The route the plan was read over (the manifest's tailnet name when it resolves here, issue 21). */
  via?: 'tailnet' | 'target';
  toplevel?: string;
  current?: string;
  changed?: boolean;
  /** null: the new system is not on the host yet, so it cannot say. */
  units?: ReturnType<typeof parseDryActivate> | null;
  declaredChecks: number;
  /** Where the closure would come from, and why (nothing pushed). */
  copy?: CopyRoute;
  /** The lock-out guard's verdict: what would shut the operator out (empty: nothing). */
  lockouts?: Array<{ code: string; message: string; option: string }>;
  error?: string;
}

export async function runDeployDryRun(
  app: AppContext, loaded: LoadedConfig, hosts: readonly string[], manifests: Map<string, Manifest>,
  o: { buildOn: 'local' | 'remote'; json: boolean; parallel: number; ssh: { identity?: string; timeout?: string; sshConfig?: string; route?: 'tailnet' | 'target' } },
): Promise<number> {
  let opened: Promise<SecretStore> | undefined;
  const store = () => (opened ??= import('../../secrets/open-store.js').then((m) => m.openSecretStore(loaded, app)));
  const plans = await runPool(hosts, o.parallel, async (host): Promise<DeployPlan> => {
    const m = manifests.get(host)!;
    const plan: DeployPlan = { host, target: m.target!, declaredChecks: 0 };
    try {
      const t = await buildHealthTarget(app, loaded, host, m, 'install', o.ssh);
      plan.declaredChecks = t.declared?.length ?? 0;
      if (t.via) plan.via = t.via;
      // The guard's verdict first, as a deploy has it before building.
      const identity = t.ssh.identityFile ?? o.ssh.identity;
      plan.lockouts = (await evalDeployLockout(app, { flakeDir: loaded.flakeDir, host, target: t.target, ...(identity ? { identity } : {}), readInterfaces: buildInterfaceReader(app, t) })).lockouts;
      const built = await app.run(buildToplevelArgv(loaded.flakeDir, host), { cwd: loaded.flakeDir, signal: app.signal, timeoutMs: 60 * 60_000, group: true });
      plan.toplevel = parseToplevelJson(built.stdout);
      await withSession(app, t.target, t.ssh, async (s) => {
        const cmd = buildRemoteCommand(t.target.user);
        const facts = parseKeyLines((await s.exec(cmd, { stdin: buildReadStateScript(plan.toplevel!), timeoutMs: 60_000 })).stdout);
        plan.current = facts.current;
        plan.changed = facts.current !== plan.toplevel || facts.profile !== plan.toplevel;
        plan.units = facts.present === 'yes' && plan.changed ? parseDryActivate((await s.exec(cmd, { stdin: buildDryActivateScript(plan.toplevel!), timeoutMs: 5 * 60_000 })).stdout) : facts.present === 'yes' ? { restart: [], start: [], stop: [], reload: [] } : null;
        if (o.buildOn === 'local' && facts.present !== 'yes') {
          const { planCopyRoute, readHostNixConf } = await import('./copy-route.js');
          plan.copy = await planCopyRoute({ loaded, app, store, signal: app.signal }, {
            host, hostFile: `${hostDir(loaded.config, host)}/default.nix`, toplevel: plan.toplevel!, privateDir: '', dryRun: true, hostNixConf: () => readHostNixConf(s),
          });
        }
      });
    } catch (e) {
      plan.error = messageOf(e);
    }
    return plan;
  });
  const steps = DEPLOY_STEPS.map((s) => s.id).filter((id) => !(o.buildOn === 'remote' && id === 'copy'));
  if (o.json) {
    app.out.json({ ok: plans.every((p) => !p.error), dryRun: true, steps, hosts: plans });
  } else {
    for (const p of plans) {
      app.out.data(`${p.host} (${p.target})${p.via === 'tailnet' ? ' over the tailnet' : ''}`);
      if (p.error) {
        app.out.data(`  cannot plan: ${p.error}`);
        continue;
      }
      app.out.data(`  runs now:   ${p.current}`);
      app.out.data(`  would run:  ${p.toplevel}${p.changed ? '' : ' (no change)'}`);
      if (p.units === null) app.out.data('  units:      not known until the system is copied to the host');
      else if (p.units) for (const verb of ['stop', 'restart', 'reload', 'start'] as const) if (p.units[verb].length) app.out.data(`  ${`${verb}:`.padEnd(11)} ${p.units[verb].join(', ')}`);
      if (p.copy) app.out.data(`  copy:       ${p.copy.from === 'cache' ? 'from the cache' : "what the host's own caches lack, streamed from here"}: ${p.copy.reason}`);
      else if (p.units !== null && p.toplevel) app.out.data('  copy:       nothing: the system is on the host already');
      if (p.lockouts) app.out.data(`  lock-out:   ${p.lockouts.length ? `REFUSED (--allow-lockout overrides): ${describeLockouts(p.lockouts)}` : 'none: sshd, the firewall and your key let you back in'}`);
      // No change: the host is only read and checked (steps.ts, the inspect step).
      const run = p.changed ? steps : steps.filter((id) => id !== 'copy' && id !== 'switch' && id !== 'confirm');
      app.out.data(`  steps:      ${run.join(' → ')}; ${p.declaredChecks} declared check(s)`);
    }
    app.out.info('dry run: nothing was changed on any host');
  }
  return plans.some((p) => p.error) ? 1 : 0;
}
