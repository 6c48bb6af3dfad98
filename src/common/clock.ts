import { DynamicModule, Global, Injectable, Module } from '@nestjs/common';

/**
 * The time services stamp their changes with. The app binds the system clock; a test binds one it can set, to
 * drive aging or expiry without sleeping through the real interval.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}

@Global()
@Module({})
export class ClockModule {
  static forRoot(clock: Clock = new Clock()): DynamicModule {
    return { module: ClockModule, providers: [{ provide: Clock, useValue: clock }], exports: [Clock] };
  }
}
