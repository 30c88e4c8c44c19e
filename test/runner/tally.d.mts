// Types of tally.mjs (plain JavaScript: the runner runs with a bare `node`, before any build).
export interface TapFile { name: string, ok: boolean, ran: boolean }
export interface TapTotals { total: number, pass: number, fail: number, skip: number, todo: number, [key: string]: number }
export function testFiles (root: string, dir?: string): string[]
export function readTap (output: string): { files: TapFile[], totals: TapTotals | null, failures: string[] }
export function judgeRun (run: { output: string, expected: string[], exitCode: number | string | null }): {
  passed: number, failed: number, filesRan: number, filesExpected: number, problems: string[], failures: string[]
}
export function engineLines (range: string): string[]
export function satisfiesEngines (version: string, range: string): boolean
export interface MatrixRun { line?: string, version: string | null, passed: number, failed: number, ok: boolean, failures?: string[] }
export function judgeMatrix (matrix: { engines: string, machineVersion: string, runs: MatrixRun[] }): {
  passed: number, failed: number, ranLines: string[], missing: string[], problems: string[]
}
