import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendErrorResponse } from '../../edge';
import { PermissionDeniedError } from '../../common/errors';
import { compileAddressList } from '../../config';
import { getLogger } from '../../logging';
import type { ProviderConfigService } from '../provider-config.service';

const log = getLogger('simpletuner.cloud.jobs.webhooks');

/**
 * The provider config's `webhook_allowed_ips`, checked first of all on the webhook route: a source outside it (the
 * client address after the trusted proxies) is answered 403 before the body is read, the rate limit counted, or a
 * signing secret fetched. An empty list allows any source. The compiled list is kept until the setting changes.
 */
export function webhookSourceCheck(configs: ProviderConfigService, provider = 'replicate'): RequestHandler {
  let compiled: { list: readonly string[]; allows: (address: string) => boolean } | null = null;
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST') return next();
    configs.get(provider).then((config) => {
      const list = config.webhookAllowedIps ?? [];
      if (list.length === 0) return next();
      if (compiled?.list !== list) compiled = { list, allows: compileAddressList(list) };
      const address = req.ip ?? '';
      if (compiled.allows(address)) return next();
      log.warning('Refused a webhook from outside webhook_allowed_ips', { client_ip: address });
      res.setHeader('Connection', 'close');
      sendErrorResponse(res, new PermissionDeniedError('Webhooks are not accepted from this address'));
    }, next);
  };
}
