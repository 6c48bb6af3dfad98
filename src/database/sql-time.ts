/**
 * A timestamptz SQL expression as the API writes times, `2025-01-31T12:00:00.123Z`: what Date#toISOString gives for
 * the value as pg reads it (both cut the microseconds to milliseconds), for rows built as JSON in SQL.
 */
export function isoTimeSql(expr: string): string {
  return `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
