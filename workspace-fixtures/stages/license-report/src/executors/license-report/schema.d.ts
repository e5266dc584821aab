/** Options of the license-report executor. */
export interface LicenseReportOptions {
  /** File name in the release folder. Default `THIRD_PARTY_LICENSES.txt`. */
  output?: string;
  /** Fail when a bundled distribution declares no license. Default true. */
  failOnUnknown?: boolean;
}
