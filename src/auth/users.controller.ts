import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, MinLevel } from './auth.decorators';
import type { AuthenticatedUser } from './authenticated-user';
import { CreateApiKeyDto, CreateOrgDto, CreateUserDto, UpdateUserDto } from './users.dto';
import { apiKeyView, orgView, userView, UsersService } from './users.service';
import {
  ApiKeyListView,
  ApiKeyView,
  CreatedApiKeyView,
  OrgListView,
  OrgView,
  UserListView,
  UserView,
} from './users.view';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors } from '../openapi';

@ApiTags('Users')
@Controller('api')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post('users')
  @MinLevel('lead')
  @ApiOperation({
    summary: 'Create a user',
    description:
      'A lead creates researchers and viewers of its organisation; an admin anyone. Usernames are unique within an ' +
      'organisation.',
  })
  @ApiCreatedResponse({ type: UserView })
  @ApiErrors('conflict')
  async create(@CurrentUser() caller: AuthenticatedUser, @Body() dto: CreateUserDto): Promise<UserView> {
    return userView(await this.users.create(caller, dto));
  }

  @Get('users')
  @MinLevel('lead')
  @ApiOperation({ summary: 'List users', description: "A lead sees its organisation's users; an admin all." })
  @ApiOkResponse({ type: UserListView })
  async list(@CurrentUser() caller: AuthenticatedUser): Promise<UserListView> {
    return { users: (await this.users.list(caller)).map(userView) };
  }

  @Get('users/me')
  @MinLevel('viewer')
  @ApiOperation({ summary: 'The calling user' })
  @ApiOkResponse({ type: UserView })
  async me(@CurrentUser() caller: AuthenticatedUser): Promise<UserView> {
    return userView(await this.users.me(caller));
  }

  @Patch('users/:id')
  @MinLevel('lead')
  @ApiOperation({
    summary: 'Change a user',
    description: 'A lead changes researchers and viewers of its organisation; an admin anyone.',
  })
  @ApiOkResponse({ type: UserView })
  @ApiErrors('not_found', 'conflict')
  async update(
    @CurrentUser() caller: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Body() dto: UpdateUserDto,
  ): Promise<UserView> {
    return userView(await this.users.update(caller, id, dto));
  }

  @Post('orgs')
  @ApiOperation({ summary: 'Create an organisation' })
  @ApiCreatedResponse({ type: OrgView })
  @ApiErrors('conflict')
  async createOrg(@CurrentUser() caller: AuthenticatedUser, @Body() dto: CreateOrgDto): Promise<OrgView> {
    return orgView(await this.users.createOrg(caller, dto.name));
  }

  @Get('orgs')
  @MinLevel('viewer')
  @ApiOperation({ summary: 'List organisations', description: "The caller's own; an admin sees all." })
  @ApiOkResponse({ type: OrgListView })
  async listOrgs(@CurrentUser() caller: AuthenticatedUser): Promise<OrgListView> {
    return { orgs: (await this.users.listOrgs(caller)).map(orgView) };
  }

  @Get('users/:id/api-keys')
  @MinLevel('viewer')
  @ApiOperation({
    summary: "List a user's API keys",
    description: 'Ones own, or (a lead) those of a user it manages. Never a key itself, only its prefix.',
  })
  @ApiOkResponse({ type: ApiKeyListView })
  @ApiErrors('permission_denied', 'not_found')
  async listKeys(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<ApiKeyListView> {
    return { api_keys: (await this.users.listKeys(caller, id)).map(apiKeyView) };
  }

  @Post('users/:id/api-keys')
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'Create an API key',
    description: 'For oneself, or (a lead) for a researcher or viewer of its organisation. The key is shown only here.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  @ApiErrors('permission_denied', 'not_found')
  async createKey(
    @CurrentUser() caller: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Body() dto: CreateApiKeyDto,
  ): Promise<CreatedApiKeyView> {
    return this.users.createKey(caller, id, dto);
  }

  @Delete('api-keys/:id')
  @MinLevel('viewer')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key', description: 'Revoking a revoked key changes nothing.' })
  @ApiOkResponse({ type: ApiKeyView })
  @ApiErrors('permission_denied', 'not_found')
  async revokeKey(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<ApiKeyView> {
    return apiKeyView(await this.users.revokeKey(caller, id));
  }
}
