/**
 * [health] of a host's bootstrap.toml (issue 21): checks the operator declares for that host, run
 * on the host by `deploy` (a failing one rolls the deploy back), `status` and the report after an
 * install. Every check has a deadline (its own `timeout` or the section's). Unknown keys are
 * refused: a misspelt check must not silently check nothing.
 */
import { z } from 'zod';

const Seconds = z.number().int().min(1).max(600);

/** A systemd unit name: no spaces, no shell characters (it is quoted anyway). */
const UnitName = z.string().regex(/^[A-Za-z0-9:_.@\\-]+$/, 'must be a systemd unit name such as nginx.service');

export const HealthUrlCheck = z
  .object({
    url: z.string().regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL').describe('fetched from the host itself (curl on the host), e.g. http://127.0.0.1/healthz'),
    status: z.number().int().min(100).max(599).default(200).describe('the HTTP status code it must answer (default 200)'),
    body: z.string().min(1).optional().describe('text the body must contain'),
    timeout: Seconds.optional(),
  })
  .strict();

export const HealthCommandCheck = z
  .object({
    name: z.string().min(1).max(80).optional().describe('how the check is named in the report (default: the command)'),
    run: z.string().min(1).describe('a shell command run on the host; it must exit 0'),
    timeout: Seconds.optional(),
  })
  .strict();

export const HealthSection = z
  .object({
    timeout: Seconds.default(10).describe('seconds each check may take unless it names its own (default 10)'),
    units: z.array(UnitName).default([]).describe('systemd units that must be active'),
    ports: z.array(z.number().int().min(1).max(65535)).default([]).describe('TCP ports something must listen on'),
    urls: z.array(HealthUrlCheck).default([]),
    commands: z.array(HealthCommandCheck).default([]),
  })
  .strict();

export type HealthDeclared = z.infer<typeof HealthSection>;
export type HealthDeclaredInput = z.input<typeof HealthSection>;
