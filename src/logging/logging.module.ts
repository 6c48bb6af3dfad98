import { Global, Injectable, Module, OnApplicationShutdown, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config';
import { LogRotationService } from './log-rotation.service';
import { LoggingScheduler } from './logging.scheduler';
import { rootPino } from './pipeline';
import { closeLogFile } from './sinks';

/**
 * The last lines of a closing app are in the file before close() resolves, and the file the app opened is closed
 * with it: no descriptor outlives an app closed in a process that goes on (tests, an embedding host).
 */
@Injectable()
class LogFileCloseOnShutdown implements OnApplicationShutdown {
  constructor(private readonly config: AppConfig) {}

  async onApplicationShutdown(): Promise<void> {
    await closeLogFile(this.config.env.SIMPLETUNER_LOG_FILE);
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
  providers: [LogRotationService, LoggingScheduler, LogFileCloseOnShutdown],
  exports: [LogRotationService],
})
export class LoggingModule {}
