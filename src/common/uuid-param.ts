import { Param, ParseUUIDPipe } from '@nestjs/common';
import { ValidationError } from './errors';

/** A path parameter that must be a UUID: anything else is a 400 naming the parameter (SPEC §11). */
export const UuidParam = (name: string): ParameterDecorator =>
  Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () => new ValidationError(`Invalid ${name}: a UUID is expected`, { [name]: 'must be a UUID' }),
    }),
  );
