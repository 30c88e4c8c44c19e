/** The contract's retry schedule: 1 s, 2 s, 4 s, ... at most `maxMs` apart. `failures` counts from 1. */
export function retryDelayMs (failures: number, maxMs: number): number {
  return Math.min(1000 * 2 ** Math.min(failures - 1, 30), maxMs)
}
