/** Named HardwareReport fixtures (test/fixtures/reports/<scenario>.json), validated by the schema. */
import { readdirSync, readFileSync } from 'node:fs';
import { HardwareReportSchema, type HardwareReport } from '../../src/probe/report.js';
import { REPO_ROOT } from './cli.js';

export const REPORTS_DIR = `${REPO_ROOT}test/fixtures/reports/`;

export function loadReport(scenario: string): HardwareReport {
  const raw: unknown = JSON.parse(readFileSync(`${REPORTS_DIR}${scenario}.json`, 'utf8'));
  return HardwareReportSchema.parse(raw);
}

export function reportScenarios(): string[] {
  return readdirSync(REPORTS_DIR).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
}
