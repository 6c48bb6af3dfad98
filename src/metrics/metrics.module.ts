import { Global, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { ApiLoad } from './api-load';
import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** Global so any feature module can inject MetricsService (to register its series) and ApiLoad. */
@Global()
@Module({
  providers: [MetricsService, HttpMetricsMiddleware, ApiLoad],
  controllers: [MetricsController],
  exports: [MetricsService, ApiLoad],
})
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
