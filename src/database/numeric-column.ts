import type { ValueTransformer } from 'typeorm';

/** pg returns `numeric` as a string (it may not fit a double); the money columns here do, so they read as numbers. */
export const numericColumn: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | null | undefined) => (v === null || v === undefined ? null : Number(v)),
};
