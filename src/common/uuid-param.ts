import { Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { ValidationError } from './errors';

/**
 * A path parameter that must be a UUID: anything else is a 400 naming the parameter. It also describes the
 * parameter (UUID format) in the OpenAPI document.
 */
export const UuidParam =
  (name: string): ParameterDecorator =>
  (target, key, index) => {
    Param(
      name,
      new ParseUUIDPipe({
        exceptionFactory: () =>
          new ValidationError(`Invalid ${name}: a UUID is expected`, { [name]: 'must be a UUID' }),
      }),
    )(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (descriptor) ApiParam({ name, type: String, format: 'uuid' })(target, key, descriptor);
  };
