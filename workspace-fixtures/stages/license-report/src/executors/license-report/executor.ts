import { describeError, readCustomStageInputs } from '@helix-release/core';
import { writeLicenseReport } from '../../lib/license-report';
import type { LicenseReportOptions } from './schema';

/** Nx executor: reads the release inputs, writes the report. */
export default async function licenseReportExecutor(options: LicenseReportOptions): Promise<{ success: boolean }> {
  try {
    const inputs = await readCustomStageInputs();
    const report = await writeLicenseReport(inputs, options);
    process.stdout.write(`[license-report] ${report.distributions} distributions in ${report.installers} installer(s)\n`);
    return { success: true };
  } catch (err) {
    process.stderr.write(`[license-report] error: ${describeError(err)}\n`);
    return { success: false };
  }
}
