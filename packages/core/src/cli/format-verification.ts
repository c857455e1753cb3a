import type { PluginVerification } from '../plugin/verify.js';

/** `cacheforge verify-plugin` output: one line per check, then the verdict. */
export function formatVerification(specifier: string, report: PluginVerification): string {
  const lines = [`plugin ${specifier}${report.format ? ` (format ${report.format})` : ''}`];
  for (const check of report.checks) lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}${check.detail ? `: ${check.detail}` : ''}`);
  const failed = report.checks.filter((c) => !c.ok).length;
  lines.push(failed === 0 ? 'plugin conforms' : `plugin does not conform: ${failed} of ${report.checks.length} checks failed`);
  return lines.join('\n');
}
