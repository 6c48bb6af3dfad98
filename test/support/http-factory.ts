import * as os from 'node:os';
import { loadAppConfig } from '../../src/config';
import { CircuitBreakerRegistry, HttpClientFactory } from '../../src/http';

/**
 * An app's outbound HTTP client factory outside Nest, built the way HttpModule builds it: from a validated
 * configuration (SIMPLETUNER_HTTP_* in `env`) and a breaker registry of its own. Close it after the test.
 */
export function httpClientFactory(env: Record<string, string> = {}): HttpClientFactory {
  const config = loadAppConfig({ SIMPLETUNER_ENTERPRISE_CONFIG: '', ...env }, os.tmpdir());
  return new HttpClientFactory(config, new CircuitBreakerRegistry());
}
