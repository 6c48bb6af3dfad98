import { Global, Injectable, Module, OnApplicationShutdown, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { LogRotationService } from './log-rotation.service';
import { LoggingScheduler } from './logging.scheduler';
import { rootPino } from './pipeline';
import { flushLogs } from './sinks';

/** The last lines of a closing app are in the file before close() resolves. */
@Injectable()
class LogFlushOnShutdown implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    await flushLogs();
  }
}

/**
 * Nest's side of the pipeline: nestjs-pino's Logger (installed by the app factory with app.useLogger) writes
 * through our one pino instance, whose metadata destination formats every line. pino-http is not used at all
 * (`useExisting`): its automatic request lines would log query strings, and correlation comes from nestjs-cls.
 */
@Global()
@Module({
  imports: [
    LoggerModule.forRoot({
      pinoHttp: { logger: rootPino, autoLogging: false },
      useExisting: true,
      forRoutes: [{ path: '{*splat}', method: RequestMethod.ALL }],
    }),
  ],
  providers: [LogRotationService, LoggingScheduler, LogFlushOnShutdown],
  exports: [LogRotationService],
})
export class LoggingModule {}
