import { ApiProperty } from '@nestjs/swagger';

/**
 * Schema hints the compiler plugin cannot read from a TypeScript type: formats of strings and named enums. Types,
 * optionality and `| null` come from the plugin.
 */
interface Extra {
  description?: string;
  example?: unknown;
  nullable?: boolean;
  required?: boolean;
  isArray?: boolean;
  default?: unknown;
}

export const ApiUuid = (extra: Extra = {}) => ApiProperty({ type: String, format: 'uuid', ...extra });

/** An ISO 8601 UTC timestamp with milliseconds (`2024-01-15T10:30:00.000Z`). */
export const ApiDateTime = (extra: Extra = {}) =>
  ApiProperty({ type: String, format: 'date-time', example: '2024-01-15T10:30:00.000Z', ...extra });

/** A string from a fixed list, shared by name across the document (`#/components/schemas/<enumName>`). */
export const ApiEnum = (values: readonly string[], enumName: string, extra: Extra = {}) =>
  ApiProperty({ enum: [...values], enumName, ...extra });

/** A whole number (TypeScript has only `number`). */
export const ApiInt = (extra: Extra & { minimum?: number; maximum?: number } = {}) =>
  ApiProperty({ type: 'integer', ...extra });
