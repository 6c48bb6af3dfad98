import { Body, Controller, Delete, HttpCode, Post, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthenticatedUser, CurrentUser } from '../auth';
import { ProviderCallError, ProviderCredentialsService, ReplicateProvider } from '../providers';
import { ApiErrors } from '../openapi';
import { ProviderConfigView } from './jobs.view';
import { configView } from './providers.controller';
import {
  ProviderTokenDto,
  RotateWebhookSecretDto,
  RotatedWebhookSecretView,
  TokenValidationView,
} from './provider-credentials.dto';

const REPLICATE = 'replicate';

/** Replicate's credentials through the API (admin): its token, a check of it, and the webhook secret's rotation. */
@ApiTags('Providers')
@Controller('api/cloud/providers/replicate')
export class ProviderCredentialsController {
  constructor(
    private readonly credentials: ProviderCredentialsService,
    private readonly replicate: ReplicateProvider,
  ) {}

  @Put('token')
  @ApiOperation({
    summary: "Set Replicate's API token",
    description:
      'Stored encrypted (needs a secret key: SIMPLETUNER_SECRET_KEY on PostgreSQL); wins over REPLICATE_API_TOKEN ' +
      'until deleted, on every instance at once. Never returned: the view says `token_source`.',
  })
  @ApiOkResponse({ type: ProviderConfigView })
  async setToken(@CurrentUser() caller: AuthenticatedUser, @Body() dto: ProviderTokenDto): Promise<ProviderConfigView> {
    const saved = await this.credentials.setToken(REPLICATE, dto.token, caller);
    return configView(saved, this.credentials.tokenSourceOf(saved));
  }

  @Delete('token')
  @ApiOperation({
    summary: "Delete Replicate's stored API token",
    description: 'REPLICATE_API_TOKEN applies again, when set.',
  })
  @ApiOkResponse({ type: ProviderConfigView })
  async clearToken(@CurrentUser() caller: AuthenticatedUser): Promise<ProviderConfigView> {
    const saved = await this.credentials.clearToken(REPLICATE, caller);
    return configView(saved, this.credentials.tokenSourceOf(saved));
  }

  @Post('validate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Check the token in force with Replicate',
    description: "Calls Replicate's account route: `valid` with the account's `username`, or `error` saying why not.",
  })
  @ApiOkResponse({ type: TokenValidationView })
  async validate(): Promise<TokenValidationView> {
    const { token } = await this.credentials.token(REPLICATE);
    if (!token) return { valid: false, error: 'No Replicate token is configured' };
    try {
      return await this.replicate.client.account();
    } catch (err) {
      if (err instanceof ProviderCallError) return { valid: false, error: err.message };
      throw err;
    }
  }

  @Post('webhook-secret/rotate')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the webhook signing secret',
    description:
      'Returns the new secret this once (give it to Replicate); the replaced one keeps verifying for ' +
      '`overlap_hours` (24 by default). Stored encrypted, like the token.',
  })
  @ApiOkResponse({ type: RotatedWebhookSecretView })
  @ApiErrors('validation_error')
  async rotate(
    @CurrentUser() caller: AuthenticatedUser,
    @Body() dto: RotateWebhookSecretDto,
  ): Promise<RotatedWebhookSecretView> {
    const { secret, previousValidUntil } = await this.credentials.rotateWebhookSecret(
      REPLICATE,
      dto.overlap_hours ?? 24,
      caller,
    );
    return { webhook_secret: secret, previous_valid_until: previousValidUntil?.toISOString() ?? null };
  }
}
