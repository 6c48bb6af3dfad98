import { ValidationError as ClassValidatorError, ValidationPipe } from '@nestjs/common';
import { ValidationError } from './errors';

function collect(errors: ClassValidatorError[], prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) {
      const messages = Object.entries(e.constraints).map(([rule, msg]) =>
        rule === 'whitelistValidation' ? `unknown field ${field}` : msg,
      );
      out[field] = messages.join('; ');
    }
    if (e.children?.length) collect(e.children, field, out);
  }
  return out;
}

/** Body/query validation: unknown fields rejected, each bad field named in `details`. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const details = collect(errors);
      return new ValidationError(`Invalid request: ${Object.keys(details).join(', ')}`, details);
    },
  });
}
