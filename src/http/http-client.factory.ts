import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { fetch } from 'undici';
import type { OutboundFetch } from '../common/outbound-fetch';
import { AppConfig } from '../config';
import { CircuitBreakerRegistry } from './circuit-breaker';
import { HttpClient, HttpClientOptions } from './http-client';
import { buildHttpSettings, HttpSettings } from './http-settings';

/**
 * Makes the app's outbound clients: timeout, proxy and CA from this app's configuration, breakers from this app's
 * registry. Nothing is process-wide, so two apps in one process (tests, a host embedding two) never see each other's
 * settings or breakers. Inject it wherever a module calls out.
 */
@Injectable()
export class HttpClientFactory implements OnApplicationShutdown {
  private readonly settings: HttpSettings;

  constructor(
    config: AppConfig,
    private readonly breakers: CircuitBreakerRegistry,
  ) {
    this.settings = buildHttpSettings({
      timeoutSeconds: config.env.SIMPLETUNER_HTTP_TIMEOUT,
      proxy: config.env.SIMPLETUNER_HTTP_PROXY,
      caFile: config.env.SIMPLETUNER_HTTP_CA_FILE,
    });
  }

  /** A client for one named target; clients of this app with the same name share one breaker. */
  create(opts: HttpClientOptions): HttpClient {
    const breaker = opts.breaker === false ? null : this.breakers.breakerFor(opts.name, opts.breaker ?? {});
    return new HttpClient(opts, this.settings, breaker);
  }

  /**
   * A fetch on this app's connection pool (its proxy and CA, closed with the app), for a library that takes its own
   * fetch function (openid-client); it answers undici's Response, which such libraries accept as the global one.
   */
  readonly fetch: OutboundFetch = (url, init) =>
    fetch(url, {
      ...(init as Parameters<typeof fetch>[1]),
      dispatcher: this.settings.dispatcher,
    });

  /**
   * Ends the app's connections. Runs last at shutdown, after the background tasks have drained: a call still in
   * flight then belongs to a tick that outlived SIMPLETUNER_SHUTDOWN_TIMEOUT and is aborted rather than waited for,
   * so shutdown stays within that bound.
   */
  async close(): Promise<void> {
    await this.settings.dispatcher.destroy();
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
