import { Global, Injectable, Module } from '@nestjs/common';
import { AppConfig } from '../config';
import { getHttpClient, HttpClient, HttpClientOptions } from './http-client';
import { configureHttpDefaults } from './http-defaults';

/** Injectable face of getHttpClient(); installs timeout/proxy/CA from the configuration. */
@Injectable()
class HttpClientFactory {
  constructor(config: AppConfig) {
    configureHttpDefaults({
      timeoutSeconds: config.env.SIMPLETUNER_HTTP_TIMEOUT,
      proxy: config.env.SIMPLETUNER_HTTP_PROXY,
      caFile: config.env.SIMPLETUNER_HTTP_CA_FILE,
    });
  }

  create(opts: HttpClientOptions): HttpClient {
    return getHttpClient(opts);
  }
}

@Global()
@Module({ providers: [HttpClientFactory], exports: [HttpClientFactory] })
export class HttpModule {}
