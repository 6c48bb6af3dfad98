/**
 * The framework floor of bench:api: a route of the same app, through the same middleware chain (correlation
 * context, request log line, metrics, security headers, the global guard and filter), that answers a static
 * 20-item JSON array without auth or database.
 *
 * Bench-only: it exists in no file under src/ and so in no build. bench/api-server.ts adds this module through
 * createApp's `imports` (the hook tests and enterprise modules use); the production app (`node dist/src/main.js`)
 * has no such route.
 */
import { Controller, Get, Module, SetMetadata } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { IS_PUBLIC } from '../src/auth/auth.decorators';

export const FLOOR_PATH = '/api/bench/floor';

const ITEMS = Array.from({ length: 20 }, (_, i) => ({
  id: `item-${i}`,
  name: `Item ${i}`,
  status: i % 3 === 0 ? 'completed' : 'pending',
  position: i + 1,
}));

@ApiExcludeController()
@Controller('api/bench')
@SetMetadata(IS_PUBLIC, true)
export class FloorController {
  @Get('floor')
  floor() {
    return ITEMS;
  }
}

@Module({ controllers: [FloorController] })
export class BenchFloorModule {}
