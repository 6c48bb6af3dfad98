import type { RecordedResponse } from './recorder';

export interface Violation {
  problem: string;
  response: string;
  testPath: string;
}

export function checkResponses(
  document: object,
  records: Iterable<RecordedResponse>,
): { violations: Violation[]; exercised: Set<string> };

export function coverageGaps(
  document: object,
  exercised: Set<string>,
  unreachable: Array<{ operation: string; status: number; reason: string }>,
): { missing: string[]; stale: string[] };

export function documentedStatuses(document: object): string[];
export function toJsonSchema(schema: object): object;
