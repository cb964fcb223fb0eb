/**
 * What the operator sent to the target, per installer phase (issue 20): the ssh guard records each
 * connection's byte counts when it ends (OpenSSH's own counter, framing and encryption included),
 * the installer session records when each phase began, and a connection counts for the phase it
 * ended in. The script runs its ssh calls one after another and prints a phase's `### … ###` line
 * only after the last connection of the phase before has ended, so the attribution is exact for
 * everything but a connection that outlives the next step line (none in nixos-anywhere 1.13). One
 * seam: the script copies the disko script before it prints the disko phase's first step line
 * ("Formatting hard drive with disko") unless an upload ("Uploading … to /…") came first, so that
 * copy counts for kexec when the call has no disk key or cache settings to upload.
 *
 * Through a jump host, each connection counts once, as the inner connection to the target counts
 * it (the hop's own record is skipped; its framing on top is not counted).
 *
 * Not counted: HTTP the target makes itself (the kexec image download, a cache it substitutes
 * from), and bytes bootstrap's own ssh2 connections send (probe, verify).
 */
import type { Phase } from '../nix/phases.js';
import type { GuardTransfer } from './ssh-guard.js';

export interface PhaseTransfer {
  /** Bytes the operator sent (SSH packets written to the socket). */
  sent: number;
  /** Bytes the operator received. */
  received: number;
  /** ssh connections that ended in the phase. */
  connections: number;
}

/**
 * Per phase of one call: `starts` are the phases in order with the time each began (ms). A
 * connection that ended before the first start counts for the first phase. Pure.
 */
export function attributeTransfers(transfers: readonly GuardTransfer[], starts: readonly { phase: Phase; atMs: number }[]): Partial<Record<Phase, PhaseTransfer>> {
  const out: Partial<Record<Phase, PhaseTransfer>> = {};
  if (!starts.length) return out;
  for (const t of transfers) {
    // A jump host's connection carries an inner one's packets, counted with that one.
    if (t.hop) continue;
    let phase = starts[0]!.phase;
    for (const s of starts) if (t.endedAtMs >= s.atMs) phase = s.phase;
    const p = (out[phase] ??= { sent: 0, received: 0, connections: 0 });
    p.sent += t.sent;
    p.received += t.received;
    p.connections += 1;
  }
  return out;
}

/** "1.2 MB", "830 kB", "512 B" (decimal units, as network transfer is counted). Pure. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
  return `${(n / 1e9).toFixed(1)} GB`;
}
