import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AuthenticatedUser, CurrentUser, MinLevel } from '../auth';
import { NotFoundError, ValidationError } from '../common/errors';
import {
  allProfiles,
  hardwareOverrideProblems,
  hardwareRate,
  ProviderConfigService,
  ProviderCredentialsService,
  ProviderRegistry,
} from '../providers';
import type { ProviderConfig } from '../providers';
import { ProviderConfigDto } from './jobs.dto';
import { JobsService } from './jobs.service';
import { ProviderConfigView, ProviderListView } from './jobs.view';
import { ApiErrors } from '../openapi';
import { invalidAddress } from '../config';

const NAME_PARAM = ApiParam({
  name: 'name',
  description: 'A provider name: `replicate` or `simulator`',
  example: 'replicate',
});

/** webhook_secret and the token are write-only: responses say whether one is set, never what it is. */
export function configView(c: ProviderConfig, tokenSource: ProviderConfigView['token_source']): ProviderConfigView {
  return {
    name: c.name,
    webhook_url: c.webhookUrl,
    webhook_secret_set: Boolean(c.webhookSecretSealed ?? c.webhookSecret),
    version_override: c.versionOverride,
    hardware_info: c.hardwareInfo ?? {},
    webhook_allowed_ips: c.webhookAllowedIps ?? [],
    token_source: tokenSource,
    updated_at: c.updatedAt ? c.updatedAt.toISOString() : null,
  };
}

@ApiTags('Providers')
@Controller('api/cloud/providers')
export class ProvidersController {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly configs: ProviderConfigService,
    private readonly credentials: ProviderCredentialsService,
    private readonly jobs: JobsService,
  ) {}

  @Get()
  @MinLevel('viewer')
  @ApiOperation({ summary: 'List providers', description: 'With their hardware profiles and prices per second.' })
  @ApiOkResponse({ type: ProviderListView })
  async list(): Promise<ProviderListView> {
    const def = this.jobs.defaultProvider();
    const providers = await Promise.all(
      this.registry.list().map(async (p) => {
        const c = await this.configs.get(p.name);
        return {
          name: p.name,
          configured: p.isConfigured ? p.isConfigured() : true,
          is_default: p.name === def,
          webhook_configured: Boolean(c.webhookUrl),
          hardware: allProfiles().map((profile) => ({
            profile,
            cost_per_second: hardwareRate(profile, c.hardwareInfo ?? {}),
          })),
        };
      }),
    );
    return { providers, default_provider: def };
  }

  @Get(':name/config')
  @ApiOperation({ summary: "Get a provider's settings" })
  @NAME_PARAM
  @ApiOkResponse({ type: ProviderConfigView })
  @ApiErrors('not_found')
  async getConfig(@Param('name') name: string): Promise<ProviderConfigView> {
    if (!this.registry.has(name)) throw new NotFoundError(`Provider ${name} not found`);
    const c = await this.configs.get(name);
    return configView(c, this.credentials.tokenSourceOf(c));
  }

  /** Changing webhook_url re-evaluates job polling at once. */
  @Put(':name/config')
  @ApiOperation({
    summary: "Change a provider's settings",
    description: 'Changing `webhook_url` re-evaluates job status polling at once.',
  })
  @NAME_PARAM
  @ApiOkResponse({ type: ProviderConfigView })
  @ApiErrors('not_found')
  async putConfig(
    @CurrentUser() caller: AuthenticatedUser,
    @Param('name') name: string,
    @Body() dto: ProviderConfigDto,
  ): Promise<ProviderConfigView> {
    if (!this.registry.has(name)) throw new NotFoundError(`Provider ${name} not found`);
    const problems: Record<string, string> = hardwareOverrideProblems(dto.hardware_info ?? {});
    const badAddress = invalidAddress(dto.webhook_allowed_ips ?? []);
    if (badAddress !== null)
      problems.webhook_allowed_ips = `${JSON.stringify(badAddress)} is not an IP address or CIDR range`;
    if (dto.webhook_secret) this.configs.requireSealing('webhook_secret');
    if (Object.keys(problems).length > 0)
      throw new ValidationError(`Invalid request: ${Object.keys(problems).join(', ')}`, problems);
    const saved = await this.configs.update(name, dto, caller);
    return configView(saved, this.credentials.tokenSourceOf(saved));
  }
}
